/**
 * Resolves spec references ({store, path, key}) to values through the configured backends, and
 * stores what Phoenix produces (OpenShift credentials) in the one chosen for them.
 */
import { FailedPreconditionError, NotFoundError } from '@phoenix/shared';
import type { SecretBackend, SecretFields, SecretStoreName } from './types.js';

export interface SecretRefLike {
  readonly store: SecretStoreName;
  readonly path: string;
  readonly key?: string | undefined;
}

/** The field a reference without `key` means: `value`, else the only field there is. */
export function pickField(fields: SecretFields, ref: SecretRefLike): string {
  if (ref.key !== undefined) {
    const v = fields[ref.key];
    if (v === undefined) throw new NotFoundError(`secret ${ref.store}:${ref.path} has no field ${ref.key} (fields: ${Object.keys(fields).join(', ') || 'none'})`);
    return v;
  }
  if (fields['value'] !== undefined) return fields['value'];
  const names = Object.keys(fields);
  if (names.length === 1 && names[0] !== undefined) return fields[names[0]] ?? '';
  throw new FailedPreconditionError(`secret ${ref.store}:${ref.path} has fields ${names.join(', ')}: name one with key`);
}

export class SecretStore {
  readonly #backends: ReadonlyMap<SecretStoreName, SecretBackend>;
  /** Where Phoenix stores what it creates. */
  readonly output: SecretStoreName;

  constructor(backends: readonly SecretBackend[], output: SecretStoreName) {
    this.#backends = new Map(backends.map((b) => [b.name, b]));
    this.output = output;
  }

  backend(name: SecretStoreName): SecretBackend {
    const b = this.#backends.get(name);
    if (!b) {
      const how = name === 'vault' ? 'secrets.vault in the coordinator config' : name === 'kv' ? 'secrets.keyFile in the coordinator config' : 'nothing';
      throw new FailedPreconditionError(`no ${name} secret store is configured (set ${how})`);
    }
    return b;
  }

  /** The value a reference points at; NotFoundError naming the reference (never a value). */
  async resolve(ref: SecretRefLike): Promise<string> {
    const fields = await this.backend(ref.store).read(ref.path);
    if (fields === undefined) throw new NotFoundError(`secret ${ref.store}:${ref.path} does not exist`);
    return pickField(fields, ref);
  }

  read(path: string): Promise<SecretFields | undefined> {
    return this.backend(this.output).read(path);
  }

  write(path: string, fields: SecretFields): Promise<void> {
    return this.backend(this.output).write(path, fields);
  }

  remove(path: string): Promise<boolean> {
    return this.backend(this.output).remove(path);
  }
}
