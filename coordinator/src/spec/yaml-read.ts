/**
 * The one YAML reader for what users hand the coordinator and the CLI (specs, views, contexts,
 * inventories, the daemon's config). YAML 1.2 core schema: `yes`/`no`/`on` stay strings, dates stay
 * strings, duplicate keys are errors. Reading uses js-yaml because it parses a spec about five
 * times faster than `yaml` on a cold process (the CLI's start-up); `yaml` still writes the
 * importers' commented output. See docs/adr/0006-cli-start-up.md.
 */
import { CORE_SCHEMA, YAMLException, load } from 'js-yaml';
import { InvalidArgumentError } from '@phoenix/shared';

/**
 * Aliases share one object, so a small document can describe an enormous tree ("billion laughs").
 * Everything after the parse walks it as a tree: refuse trees beyond this many values.
 */
const MAX_VALUES = 1_000_000;

/** Parses YAML (or JSON, which is YAML) into plain data; syntax errors name the source and line. */
export function parseYamlText(text: string, source: string): unknown {
  let data: unknown;
  try {
    data = load(text, { schema: CORE_SCHEMA, filename: source });
  } catch (cause) {
    if (!(cause instanceof YAMLException)) throw cause;
    const where = cause.mark ? `line ${cause.mark.line + 1}, column ${cause.mark.column + 1}` : 'unknown position';
    throw new InvalidArgumentError(source, where, `not valid YAML: ${cause.reason}`, { cause });
  }
  if (countValues(data, MAX_VALUES) > MAX_VALUES) {
    throw new InvalidArgumentError(source, 'aliases', `expands to more than ${MAX_VALUES} values (alias bomb?)`);
  }
  return data;
}

/** Values in the tree the data describes (aliases counted each time they are used), up to `limit` + 1. */
function countValues(root: unknown, limit: number): number {
  let count = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0 && count <= limit) {
    const v = stack.pop();
    count++;
    // One push per element: spreading a long list as arguments would overflow the call stack.
    if (v !== null && typeof v === 'object') for (const child of Object.values(v)) stack.push(child);
  }
  return count;
}
