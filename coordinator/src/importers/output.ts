/** Turning an imported spec into YAML: stable key order, no empty leftovers, a header comment. */
import { stringify } from 'yaml';
import { compileSpec } from '../spec/compile.js';
import { SpecError } from '../spec/errors.js';
import { parseSpec } from '../spec/load.js';
import type { SpecInput } from '../spec/spec.js';

/** Drops undefined values, empty arrays and empty objects, recursively (appConfig included). */
export function prune<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => prune(v) as unknown) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    const p = prune(v);
    if (Array.isArray(p) && p.length === 0) continue;
    if (p !== null && typeof p === 'object' && !Array.isArray(p) && Object.keys(p).length === 0) continue;
    out[k] = p;
  }
  return out as T;
}

/** The pruned output of an importer, which must be a valid spec: an importer bug is reported as such. */
export function validatedOutput(raw: SpecInput): SpecInput {
  const spec = prune(raw);
  try {
    compileSpec(parseSpec(spec));
  } catch (err) {
    if (err instanceof SpecError) {
      throw new SpecError(err.field, undefined, ['the imported spec does not validate:', ...err.lines], { cause: err });
    }
    throw err;
  }
  return spec;
}

export const SCHEMA_MODELINE = '# yaml-language-server: $schema=../schema/phoenix-spec.schema.json';

export function specToYaml(spec: unknown, header: readonly string[] = []): string {
  const body = stringify(spec, { lineWidth: 0, indent: 2, aliasDuplicateObjects: false });
  const lines = header.map((h) => `# ${h}`.trimEnd());
  return `${lines.length ? `${lines.join('\n')}\n` : ''}${body}`;
}
