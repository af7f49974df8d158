/**
 * Application scripts named by a spec and kept beside it travel with the spec, so the agents get
 * their content without any file access to the workstation. A name that looks like a file (a path
 * or a `.sh`) must exist; other names are the agents' script library.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { InvalidArgumentError } from '@phoenix/shared';
import type { CompiledSpec } from '../spec/compile.js';

const MAX_SCRIPT_BYTES = 256 * 1024;

export async function readSpecScripts(spec: CompiledSpec, specPath: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const g of spec.guests) {
    const name = g.applicationScript;
    if (!name || name in files || !(name.includes('/') || name.endsWith('.sh'))) continue;
    const file = isAbsolute(name) ? name : resolve(dirname(specPath), name);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw new InvalidArgumentError(`${g.path}.applicationScript`, name, `no such file beside the spec (${file})`);
    if (info.size > MAX_SCRIPT_BYTES) throw new InvalidArgumentError(`${g.path}.applicationScript`, name, `larger than ${MAX_SCRIPT_BYTES} bytes`);
    files[name] = await readFile(file, 'utf8');
  }
  return files;
}
