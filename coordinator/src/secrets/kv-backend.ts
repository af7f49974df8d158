/**
 * Secrets sealed in the `phoenix_secrets` KV bucket. The coordinators' public key is published
 * there (`recipient.current`) so the CLI can store secrets it cannot read back; reading needs the
 * private key, which only coordinators get (a systemd credential). Removal purges the key's history,
 * so no old ciphertext stays behind.
 */
import type { KV } from '@nats-io/kv';
import { z } from 'zod';
import { FailedPreconditionError, NotFoundError, buckets } from '@phoenix/shared';
import { kvKey, parseKvKey, type StateStore, type TypedBucket } from '../state/index.js';
import { open, publicKeyBase64, recipientFromBase64, seal, sealedSchema, type RecipientKey, type SecretKeyPair } from './sealed.js';
import { checkSecretPath, type SecretBackend, type SecretFields } from './types.js';

const recipientSchema = z.strictObject({ kid: z.string(), publicKey: z.string(), publishedAt: z.string() });
const fieldsSchema = z.record(z.string(), z.string());
const RECIPIENT_KEY = kvKey('recipient', 'current');
const secretKey = (path: string): string => kvKey('secret', path);

function sealedBucket(store: StateStore): TypedBucket<z.infer<typeof sealedSchema>> {
  return store.bucket(buckets.secrets, sealedSchema);
}

/** Publishes this coordinator's public key; refuses when the bucket is sealed for another key. */
export async function publishRecipient(store: StateStore, keys: SecretKeyPair): Promise<void> {
  const bucket = store.bucket(buckets.secrets, recipientSchema);
  const out = await bucket.createOrGet(RECIPIENT_KEY, { kid: keys.kid, publicKey: publicKeyBase64(keys), publishedAt: new Date().toISOString() });
  if (!out.created && out.entry.value.kid !== keys.kid) {
    throw new FailedPreconditionError(
      `the secrets bucket is sealed for key ${out.entry.value.kid}, but this coordinator holds key ${keys.kid}: give every coordinator the same secrets key`,
    );
  }
}

/** The published public key, for writers without the private key (the CLI). */
export async function readRecipient(store: StateStore): Promise<RecipientKey> {
  const entry = await store.bucket(buckets.secrets, recipientSchema).get(RECIPIENT_KEY);
  if (!entry) throw new NotFoundError('no secrets key is published yet: start a coordinator with secrets.keyFile set');
  return recipientFromBase64(entry.value.publicKey);
}

export class KvSecretBackend implements SecretBackend {
  readonly name = 'kv' as const;
  readonly #store: StateStore;
  readonly #keys: SecretKeyPair | undefined;
  #recipient: RecipientKey | undefined;

  /** Without `keys` the backend can write and remove but not read (the CLI's position). */
  constructor(store: StateStore, keys?: SecretKeyPair) {
    this.#store = store;
    this.#keys = keys;
    this.#recipient = keys;
  }

  async read(path: string): Promise<SecretFields | undefined> {
    checkSecretPath('path', path);
    if (!this.#keys) throw new FailedPreconditionError('reading secrets needs the coordinators\' secrets key; ask the coordinator');
    const entry = await sealedBucket(this.#store).get(secretKey(path));
    if (!entry) return undefined;
    const parsed = fieldsSchema.safeParse(JSON.parse(open(this.#keys, path, entry.value)));
    if (!parsed.success) throw new FailedPreconditionError(`secret ${path} holds no field map`);
    return parsed.data;
  }

  async write(path: string, fields: SecretFields): Promise<void> {
    checkSecretPath('path', path);
    this.#recipient ??= await readRecipient(this.#store);
    const sealed = seal(this.#recipient, path, JSON.stringify(fields));
    await sealedBucket(this.#store).update(secretKey(path), () => sealed);
  }

  async remove(path: string): Promise<boolean> {
    checkSecretPath('path', path);
    const kv: KV = this.#store.kv(buckets.secrets);
    const had = (await sealedBucket(this.#store).get(secretKey(path))) !== null;
    await kv.purge(secretKey(path));
    return had;
  }

  /** Paths of every stored secret (names only; values stay sealed). */
  async list(): Promise<string[]> {
    const keys = await sealedBucket(this.#store).keys('secret.>');
    return keys.map((k) => parseKvKey(k)[1] ?? k).sort();
  }
}

