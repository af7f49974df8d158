/** Where secrets live, behind one small interface: sealed in NATS KV, HashiCorp Vault KV v2, or a file. */
import { InvalidArgumentError } from '@phoenix/shared';

export type SecretStoreName = 'kv' | 'vault' | 'file';

/** A secret is a set of named fields, as in Vault KV. */
export type SecretFields = Readonly<Record<string, string>>;

export interface SecretBackend {
  readonly name: SecretStoreName;
  /** The fields at `path`, or undefined when nothing is stored there. */
  read(path: string): Promise<SecretFields | undefined>;
  /** Replaces the secret at `path` with `fields`. */
  write(path: string, fields: SecretFields): Promise<void>;
  /** Removes the secret and its history; false when there was nothing. */
  remove(path: string): Promise<boolean>;
}

/** Secret paths: slash-separated segments of safe characters, no `..`, no leading slash. */
export function checkSecretPath(field: string, path: string): string {
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(path) || path.split('/').some((s) => s === '.' || s === '..') || path.length > 512) {
    throw new InvalidArgumentError(field, path, 'secret paths are slash-separated names of letters, digits, _ . - (no "..")');
  }
  return path;
}
