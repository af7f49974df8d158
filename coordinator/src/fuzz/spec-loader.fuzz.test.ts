/**
 * The spec loader against thousands of hostile variations of a real spec (the imported seed
 * config and the example lab spec): every outcome is a compiled spec or a typed error with a path
 * that exits 2. Never a crash (TypeError, RangeError …) and never a stack trace for the user.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExitCode, exitCodeOf, isPhoenixError, type InvalidArgumentError } from '@phoenix/shared';
import { importPhoenix } from '../importers/phoenix/index.js';
import { loadSpecText } from '../spec/load.js';
import { parseYamlText } from '../spec/yaml-read.js';
import { applyMutation, mutationOf, type Json } from './mutate.js';

const SEED = 20261207;

function outcome(text: string): 'ok' | 'rejected' {
  try {
    loadSpecText(text, 'fuzz.yaml');
    return 'ok';
  } catch (err) {
    if (!isPhoenixError(err) || exitCodeOf(err) !== ExitCode.INVALID) {
      throw new Error(`not a typed rejection: ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err)}`, { cause: err });
    }
    // The message starts with where: the field's path, or the file for a syntax error.
    const field = (err as InvalidArgumentError).field;
    expect(field.length).toBeGreaterThan(0);
    expect((err as Error).message.startsWith(`${field}: `)).toBe(true);
    return 'rejected';
  }
}

describe('spec loader fuzz', () => {
  const docs: [string, number, () => Promise<Json>][] = [
    ['the example lab spec', Number(process.env['PHOENIX_FUZZ_RUNS'] ?? 2_000), () => Promise.resolve(parseYamlText(readFileSync(new URL('../../examples/lab.yaml', import.meta.url), 'utf8'), 'lab.yaml') as Json)],
    ['the imported seed config', Number(process.env['PHOENIX_FUZZ_RUNS'] ?? 500), async () => (await importPhoenix(new URL('../../../examples/phoenix', import.meta.url).pathname)).spec as unknown as Json],
  ];
  for (const [name, RUNS, load] of docs) {
    it(`${name}: ${RUNS} mutations, each compiled or rejected with exit 2 (seed ${SEED})`, async () => {
      const doc = await load();
      const counts = { ok: 0, rejected: 0 };
      fc.assert(
        fc.property(mutationOf(doc), (m) => {
          counts[outcome(JSON.stringify(applyMutation(doc, m)))]++;
        }),
        { seed: SEED, numRuns: RUNS },
      );
      console.log(`spec loader fuzz, ${name}: ${RUNS} cases, ${counts.ok} compiled, ${counts.rejected} rejected, 0 crashes`);
      expect(counts.rejected).toBeGreaterThan(RUNS / 4);
    }, 120_000);
  }
});
