/**
 * Config pipeline: YAML file → environment overrides (`PHOENIX_AGENT_*`) → zod (defaults, strict)
 * → `compileConfig` (units, resolved paths). Only the compiled config reaches the rest of the agent.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { agentConfigSchema, RECORD_FIELDS } from './schema.js';
import { compileConfig, type CompiledConfig } from './compile.js';
import { ConfigError } from './errors.js';

export const ENV_PREFIX = 'PHOENIX_AGENT_';
/** Environment variables with the prefix that are not config fields. */
const RESERVED_ENV = new Set(['PHOENIX_AGENT_CONFIG']);

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
}

/** Reads, overrides, validates and compiles the config file at `path`. Throws ConfigError. */
export function loadConfig(path: string, options: LoadOptions = {}): CompiledConfig {
  const env = options.env ?? process.env;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`], { cause: err });
  }
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true }) ?? {};
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
    throw new ConfigError(path, [`not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`], { cause: err });
  }
  return parseConfig(document, { source: path, baseDir: dirname(resolve(path)), env });
}

export interface ParseOptions {
  source: string;
  baseDir?: string;
  env?: NodeJS.ProcessEnv;
}

/** Validates an already parsed document (plus environment overrides) and compiles it. */
export function parseConfig(document: unknown, options: ParseOptions): CompiledConfig {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError(options.source, ['(root): must be a mapping of fields']);
  }
  const origins = new Map<string, string>();
  const merged = applyEnvOverrides(document as Record<string, unknown>, options.env ?? {}, origins, options.source);
  const result = agentConfigSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(options.source, describeIssues(result.error, merged, origins), { cause: result.error });
  }
  return compileConfig(result.data, options);
}

/**
 * `PHOENIX_AGENT_NATS__SERVERS='[nats://a:4222]'` sets `nats.servers`: `__` separates levels,
 * each level is SCREAMING_SNAKE for a camelCase field (keys under `tools.env` and `labels` are kept
 * verbatim), and the value is read as YAML (so lists, numbers and booleans work; quote strings that
 * look like numbers).
 */
export function applyEnvOverrides(
  document: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  origins: Map<string, string>,
  source: string,
): Record<string, unknown> {
  const result = structuredClone(document);
  const names = Object.keys(env)
    .filter((n) => n.startsWith(ENV_PREFIX) && !RESERVED_ENV.has(n))
    .sort();
  for (const name of names) {
    const raw = env[name] ?? '';
    const path: string[] = [];
    for (const segment of name.slice(ENV_PREFIX.length).split('__')) {
      path.push(RECORD_FIELDS.includes(path.join('.')) ? segment : camelCase(segment));
    }
    let value: unknown;
    try {
      value = parseYaml(raw);
    } catch (err) {
      throw new ConfigError(source, [`${name}: not a valid YAML value (${(err as Error).message.split('\n')[0]})`], { cause: err });
    }
    setPath(result, path, value ?? '');
    origins.set(path.join('.'), name);
  }
  return result;
}

function camelCase(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = target;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last !== undefined) cur[last] = value;
}

function describeIssues(error: z.ZodError, input: unknown, origins: Map<string, string>): string[] {
  return error.issues.flatMap((issue) => {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const field = [...base, key].join('.');
        return `${field}: unknown field${originNote(field, origins)}`;
      });
    }
    const field = base.join('.') || '(root)';
    const got = valueAt(input, base);
    const shown = got === undefined ? '' : ` (got ${formatValue(got)})`;
    return [`${field}: ${issue.message}${shown}${originNote(field, origins)}`];
  });
}

function originNote(field: string, origins: Map<string, string>): string {
  for (const [path, name] of origins) {
    if (field === path || field.startsWith(`${path}.`)) return ` [from ${name}]`;
  }
  return '';
}

function valueAt(input: unknown, path: string[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function formatValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
