/** Secrets in files on the coordinator's host (read-only): the file is the value, or a JSON object of fields. */
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { FailedPreconditionError, InvalidArgumentError } from '@phoenix/shared';
import type { SecretBackend, SecretFields } from './types.js';

export class FileSecretBackend implements SecretBackend {
  readonly name = 'file' as const;

  async read(path: string): Promise<SecretFields | undefined> {
    if (!isAbsolute(path)) throw new InvalidArgumentError('path', path, 'file secrets are absolute paths');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new FailedPreconditionError(`cannot read secret file ${path}`, { cause: err });
    }
    const fields: Record<string, string> = { value: text.replace(/\r?\n$/, '') };
    if (text.trimStart().startsWith('{')) {
      try {
        const obj = JSON.parse(text) as unknown;
        if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
          for (const [k, v] of Object.entries(obj)) fields[k] = typeof v === 'string' ? v : JSON.stringify(v);
        }
      } catch {
        // Not JSON after all: the whole file is the value.
      }
    }
    return fields;
  }

  write(path: string): Promise<void> {
    return Promise.reject(new FailedPreconditionError(`file secrets are read-only (${path}); store it in kv or vault`));
  }

  remove(path: string): Promise<boolean> {
    return Promise.reject(new FailedPreconditionError(`file secrets are read-only (${path})`));
  }
}
