/**
 * Mutations of real input documents for the fuzz tests: one value somewhere in the tree is
 * replaced by something hostile (wrong type, shell metacharacters, newlines, NUL, huge or negative
 * numbers, deep nesting), or a key is removed or added. Seeded, so a failure is reproducible.
 */
import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const hostileString = fc.oneof(
  fc.constantFrom('', ' ', '$(reboot)', '`id`', 'a;rm -rf /', 'a\nb', 'a\u0000b', '../../etc/passwd', '-rf', '--help', '${HOME}', '*', 'é漢字', 'x'.repeat(5000)),
  fc.string({ maxLength: 40 }),
);
const hostileNumber = fc.oneof(
  fc.constantFrom(0, -1, 1.5, 2 ** 31, 2 ** 53, -(2 ** 53), Number.MAX_VALUE, 1e-9),
  fc.integer({ min: -100_000, max: 100_000 }),
);
export const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.constantFrom<Json>(null, true, false, [], {}, [null], { '': null }, [[[[[]]]]], { __proto__: 'x', constructor: 1 } as unknown as Json),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);

/** Every path to a value in the document, the root excluded. */
export function paths(doc: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(doc)) doc.forEach((v, i) => out.push([...prefix, i], ...paths(v, [...prefix, i])));
  else if (doc !== null && typeof doc === 'object') for (const [k, v] of Object.entries(doc)) out.push([...prefix, k], ...paths(v, [...prefix, k]));
  return out;
}

export interface Mutation {
  path: (string | number)[];
  op: 'replace' | 'delete' | 'add';
  value: Json;
}

/** A mutation of `doc` at one of its paths. */
export function mutationOf(doc: Json): fc.Arbitrary<Mutation> {
  const all = paths(doc);
  return fc.record({
    path: fc.constantFrom(...all),
    op: fc.constantFrom('replace', 'replace', 'replace', 'delete', 'add'),
    value: hostileValue,
  });
}

export function applyMutation(doc: Json, m: Mutation): Json {
  const copy = structuredClone(doc);
  let parent: Json = copy;
  for (const key of m.path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[key] as Json;
  const last = m.path[m.path.length - 1] as string | number;
  const target = parent as Record<string | number, Json>;
  if (m.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete target[last];
  } else if (m.op === 'add' && !Array.isArray(parent)) {
    target[`${String(last)}_extra`] = m.value;
  } else {
    target[last] = m.value;
  }
  return copy;
}
