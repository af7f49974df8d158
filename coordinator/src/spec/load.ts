/** Reading a spec: YAML text → zod (strict, defaults) → compileSpec(). Every failure is a SpecError. */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { InvalidArgumentError } from '@phoenix/shared';
import { SpecError } from './errors.js';
import { compileSpec, type CompiledSpec } from './compile.js';
import { specSchema, type Spec } from './spec.js';

/** Parses YAML (or JSON, which is YAML) into plain data; syntax errors name the source and line. */
export function parseYamlText(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const where = err.linePos?.[0] ? `line ${err.linePos[0].line}, column ${err.linePos[0].col}` : 'unknown position';
    throw new InvalidArgumentError(source, where, `not valid YAML: ${err.message.split('\n')[0] ?? err.code}`);
  }
  return doc.toJS({ maxAliasCount: 1000 });
}

/** Validates plain data against the spec schema (defaults applied). */
export function parseSpec(data: unknown): Spec {
  const result = specSchema.safeParse(data);
  if (!result.success) throw SpecError.fromZod(result.error, data);
  return result.data;
}

export interface LoadedSpec {
  readonly spec: Spec;
  readonly compiled: CompiledSpec;
}

export function loadSpecText(text: string, source = 'spec'): LoadedSpec {
  const spec = parseSpec(parseYamlText(text, source));
  return { spec, compiled: compileSpec(spec) };
}

export async function loadSpecFile(path: string): Promise<LoadedSpec> {
  return loadSpecText(await readTextFile(path), path);
}

export async function readTextFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new InvalidArgumentError('file', path, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? 'error'})`, {
      cause,
    });
  }
}
