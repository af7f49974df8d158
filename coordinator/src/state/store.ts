/**
 * The coordinator's state store: opens (creating when missing) every Phoenix bucket and hands
 * out typed views of them. Nothing the coordinator must remember lives only in its memory; it
 * lives here, behind compare-and-set.
 */
import { Kvm, type KV } from '@nats-io/kv';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { InvalidArgumentError, buckets, type BucketName, type Logger } from '@phoenix/shared';
import type { z } from 'zod';
import { TypedBucket } from './bucket.js';
import { serverCapabilities, type ServerCapabilities } from './capabilities.js';
import { natsFailure } from './errors.js';

/** Defaults, each named so the documentation and the code cannot drift. */
export const DEFAULT_HISTORY = 5;
export const DEFAULT_LEASE_TTL_MS = 15_000;
export const DEFAULT_CAS_RETRIES = 12;
/** Below this a lease would need renewals faster than a loaded node reliably delivers. */
export const MIN_LEASE_TTL_MS = 1_000;

export interface StateStoreOptions {
  /** Values kept per key (at least 5). @default 5 */
  history?: number;
  /**
   * Max age of messages in the leases bucket, i.e. the lease TTL, in millis. Applied only when the
   * bucket is created: an existing bucket keeps its TTL (all coordinators must agree on it), and
   * `leaseTtlMs` on the opened store reports the one in force. @default 15000
   */
  leaseTtlMs?: number;
  /** Stream replicas; 3 only with a 3-node JetStream cluster. @default 1 */
  replicas?: number;
  /** Attempts after the first before a conflicting read-modify-write gives up. @default 12 */
  casRetries?: number;
  logger?: Logger;
}

/** Every bucket the coordinator uses; created idempotently at start-up. */
export const STATE_BUCKETS: readonly BucketName[] = Object.values(buckets);

export class StateStore {
  readonly nc: NatsConnection;
  readonly capabilities: ServerCapabilities;
  /** The lease TTL actually in force (the leases bucket's max age), in millis. */
  readonly leaseTtlMs: number;
  readonly casRetries: number;
  readonly #kvs: ReadonlyMap<BucketName, KV>;

  private constructor(nc: NatsConnection, kvs: ReadonlyMap<BucketName, KV>, leaseTtlMs: number, casRetries: number) {
    this.nc = nc;
    this.capabilities = serverCapabilities(nc);
    this.#kvs = kvs;
    this.leaseTtlMs = leaseTtlMs;
    this.casRetries = casRetries;
  }

  /** Opens every bucket, creating missing ones; safe to run from several coordinators at once. */
  static async open(nc: NatsConnection, options: StateStoreOptions = {}): Promise<StateStore> {
    const history = options.history ?? DEFAULT_HISTORY;
    const leaseTtlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    const replicas = options.replicas ?? 1;
    const casRetries = options.casRetries ?? DEFAULT_CAS_RETRIES;
    if (!Number.isInteger(history) || history < DEFAULT_HISTORY || history > 64) {
      throw new InvalidArgumentError('history', history, `must be an integer from ${DEFAULT_HISTORY} to 64`);
    }
    if (!Number.isInteger(leaseTtlMs) || leaseTtlMs < MIN_LEASE_TTL_MS) {
      throw new InvalidArgumentError('leaseTtlMs', leaseTtlMs, `must be an integer of at least ${MIN_LEASE_TTL_MS}`);
    }
    if (![1, 3, 5].includes(replicas)) throw new InvalidArgumentError('replicas', replicas, 'must be 1, 3 or 5');
    if (!Number.isInteger(casRetries) || casRetries < 0) {
      throw new InvalidArgumentError('casRetries', casRetries, 'must be a non-negative integer');
    }

    const kvm = new Kvm(nc);
    const kvs = new Map<BucketName, KV>();
    let effectiveTtl = leaseTtlMs;
    for (const name of STATE_BUCKETS) {
      const ttl = name === buckets.leases ? leaseTtlMs : 0;
      const kv = await openBucket(kvm, name, { history, ttl, replicas });
      if (name === buckets.leases) {
        effectiveTtl = await reconcileLeaseBucket(nc, kv, name, leaseTtlMs, options.logger);
      }
      await ensureHistory(nc, kv, name, history, options.logger);
      kvs.set(name, kv);
    }
    return new StateStore(nc, kvs, effectiveTtl, casRetries);
  }

  /** The raw KV handle, for watches and for code that needs what the typed view does not offer. */
  kv(name: BucketName): KV {
    const kv = this.#kvs.get(name);
    if (!kv) throw new InvalidArgumentError('bucket', name, 'not a Phoenix state bucket');
    return kv;
  }

  /** A typed, validated view of one bucket. */
  bucket<T>(name: BucketName, schema: z.ZodType<T>): TypedBucket<T> {
    return new TypedBucket(name, this.kv(name), schema, this.casRetries);
  }
}

interface BucketSettings {
  history: number;
  ttl: number;
  replicas: number;
}

async function openBucket(kvm: Kvm, name: BucketName, settings: BucketSettings): Promise<KV> {
  const options = {
    history: settings.history,
    replicas: settings.replicas,
    // Reads go to the stream leader: a replica-served direct get may lag, and a stale read would
    // only turn into extra CAS conflicts.
    allow_direct: false,
    ...(settings.ttl > 0 ? { ttl: settings.ttl } : {}),
  };
  try {
    return await kvm.create(name, options);
  } catch {
    // Two coordinators creating the same bucket at once: the loser sees "already in use"; open it.
    try {
      return await kvm.create(name, options);
    } catch (err) {
      throw natsFailure(err, 'open', name);
    }
  }
}

/** Returns the TTL in force; an existing bucket's TTL wins over the option (and is reported). */
async function reconcileLeaseBucket(
  nc: NatsConnection,
  kv: KV,
  name: BucketName,
  wantedMs: number,
  logger: Logger | undefined,
): Promise<number> {
  const status = await kv.status().catch((err: unknown) => {
    throw natsFailure(err, 'status', name);
  });
  const haveMs = status.ttl;
  if (haveMs > 0) {
    if (haveMs !== wantedMs) {
      logger?.warn({ bucket: name, configuredMs: wantedMs, inForceMs: haveMs }, 'lease TTL differs from the existing bucket; using the bucket');
    }
    return haveMs;
  }
  // A leases bucket without a TTL would keep a dead leader's lease forever: give it one.
  const jsm = await jetstreamManager(nc);
  const info = status.streamInfo;
  const maxAge = wantedMs * 1_000_000;
  // The server refuses a duplicates window longer than the max age.
  const duplicateWindow = Math.min(info.config.duplicate_window ?? maxAge, maxAge);
  await jsm.streams.update(info.config.name, { ...info.config, max_age: maxAge, duplicate_window: duplicateWindow });
  logger?.warn({ bucket: name, inForceMs: wantedMs }, 'leases bucket had no TTL; set it');
  return wantedMs;
}

async function ensureHistory(nc: NatsConnection, kv: KV, name: BucketName, history: number, logger: Logger | undefined): Promise<void> {
  const status = await kv.status().catch((err: unknown) => {
    throw natsFailure(err, 'status', name);
  });
  if (status.history >= history) return;
  const jsm = await jetstreamManager(nc);
  const info = status.streamInfo;
  await jsm.streams.update(info.config.name, { ...info.config, max_msgs_per_subject: history });
  logger?.info({ bucket: name, history }, 'raised bucket history');
}
