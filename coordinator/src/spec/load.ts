/** Reading a spec: YAML text → zod (strict, defaults) → compileSpec(). Every failure is a SpecError. */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from '@phoenix/shared';
import { SpecError } from './errors.js';
import { compileSpec, type CompiledSpec } from './compile.js';
import { specSchema, type Spec } from './spec.js';
import { parseYamlText } from './yaml-read.js';

export { parseYamlText };

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
