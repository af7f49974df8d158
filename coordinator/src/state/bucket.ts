/**
 * A typed view of one KV bucket: JSON values validated with zod on read and on write, and every
 * write a compare-and-set on the key's revision. There is deliberately no blind `put`.
 */
import type { KV } from '@nats-io/kv';
import { AlreadyExistsError, ConflictError, InvalidArgumentError, describeZodError } from '@phoenix/shared';
import type { z } from 'zod';
import { CorruptValueError, isCasConflict, natsFailure } from './errors.js';

export interface Versioned<T> {
  readonly key: string;
  readonly value: T;
  /** The KV revision (stream sequence) of this value: pass it back for compare-and-set. */
  readonly revision: number;
}

/** Returned by an updater to leave the key as it is. */
export const KEEP: unique symbol = Symbol('keep');
/** Returned by an updater to delete the key (compare-and-set on the revision it saw). */
export const REMOVE: unique symbol = Symbol('remove');

export type UpdateOutcome<T> = T | typeof KEEP | typeof REMOVE;
/** Computes the next value from the current one; called again on every conflict, so keep it pure. */
export type Updater<T> = (current: Versioned<T> | null) => UpdateOutcome<T> | Promise<UpdateOutcome<T>>;

export type CreateOutcome<T> = { readonly created: true; readonly entry: Versioned<T> } | { readonly created: false; readonly entry: Versioned<T> };

export interface RetryOptions {
  /** Attempts after the first one before giving up with ConflictError. */
  retries?: number;
}

/** The latest state of a key: its live value, and the revision a compare-and-set must name. */
interface KeyState<T> {
  readonly entry: Versioned<T> | null;
  /** 0 when the key has no message at all (never written, or expired by the bucket TTL). */
  readonly lastRevision: number;
}

const decoder = new TextDecoder();

export class TypedBucket<T> {
  readonly name: string;
  readonly #kv: KV;
  readonly #schema: z.ZodType<T>;
  readonly #retries: number;

  constructor(name: string, kv: KV, schema: z.ZodType<T>, retries: number) {
    this.name = name;
    this.#kv = kv;
    this.#schema = schema;
    this.#retries = retries;
  }

  /** The live value of `key`, or null when it is absent or deleted. */
  async get(key: string): Promise<Versioned<T> | null> {
    return (await this.#read(key)).entry;
  }

  /** Creates `key`; AlreadyExistsError (naming the holder's revision) when it has a live value. */
  async create(key: string, value: T): Promise<Versioned<T>> {
    const outcome = await this.createOrGet(key, value);
    if (!outcome.created) {
      throw new AlreadyExistsError(`KV bucket ${this.name} key ${key} already exists`, {
        details: { bucket: this.name, kvKey: key, revision: outcome.entry.revision },
      });
    }
    return outcome.entry;
  }

  /**
   * Creates `key` if it has no live value, otherwise returns the value that is there. A key whose
   * last message is a delete marker counts as absent (created with CAS on the marker's revision).
   */
  async createOrGet(key: string, value: T, options: RetryOptions = {}): Promise<CreateOutcome<T>> {
    const data = this.#encode(key, value);
    const retries = options.retries ?? this.#retries;
    let expected = 0;
    let lastConflict: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        const revision = await this.#kv.put(key, data, { previousSeq: expected });
        return { created: true, entry: { key, value, revision } };
      } catch (err) {
        if (!isCasConflict(err)) throw natsFailure(err, 'create', this.name, key);
        lastConflict = err;
      }
      const state = await this.#read(key);
      if (state.entry) return { created: false, entry: state.entry };
      expected = state.lastRevision;
    }
    throw this.#exhausted('create', key, retries, lastConflict);
  }

  /** One compare-and-set: writes `value` only if `key` is still at `revision`. ConflictError otherwise. */
  async replace(key: string, value: T, revision: number): Promise<Versioned<T>> {
    const data = this.#encode(key, value);
    try {
      const next = await this.#kv.put(key, data, { previousSeq: revision });
      return { key, value, revision: next };
    } catch (err) {
      if (!isCasConflict(err)) throw natsFailure(err, 'replace', this.name, key);
      throw new ConflictError(`KV bucket ${this.name} key ${key} is no longer at revision ${revision}`, {
        cause: err,
        details: { bucket: this.name, kvKey: key, revision },
      });
    }
  }

  /**
   * Read-modify-write with compare-and-set: reads the key, applies `fn`, writes on the revision it
   * read (create when absent) and, on a conflict, re-reads and re-applies `fn`. Gives up with
   * ConflictError (cause: the last server rejection) after the bounded retries.
   * Returns the value now stored, or null when the key ends up absent.
   */
  async update(key: string, fn: Updater<T>, options: RetryOptions = {}): Promise<Versioned<T> | null> {
    const retries = options.retries ?? this.#retries;
    let lastConflict: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const state = await this.#read(key);
      const next = await fn(state.entry);
      if (next === KEEP) return state.entry;
      try {
        if (next === REMOVE) {
          if (state.entry === null) return null;
          await this.#kv.delete(key, { previousSeq: state.entry.revision });
          return null;
        }
        const revision = await this.#kv.put(key, this.#encode(key, next), { previousSeq: state.lastRevision });
        return { key, value: next, revision };
      } catch (err) {
        if (!isCasConflict(err)) throw natsFailure(err, 'update', this.name, key);
        lastConflict = err;
      }
    }
    throw this.#exhausted('update', key, retries, lastConflict);
  }

  /** Deletes `key`; with `revision`, only if it is still at that revision (ConflictError otherwise). */
  async delete(key: string, options: { revision?: number } = {}): Promise<void> {
    try {
      await this.#kv.delete(key, options.revision === undefined ? {} : { previousSeq: options.revision });
    } catch (err) {
      if (!isCasConflict(err)) throw natsFailure(err, 'delete', this.name, key);
      throw new ConflictError(`KV bucket ${this.name} key ${key} is no longer at revision ${options.revision}`, {
        cause: err,
        details: { bucket: this.name, kvKey: key, revision: options.revision },
      });
    }
  }

  /** Live keys matching a subject-style filter (`guest.>`, `step.run1.*`). */
  async keys(filter = '>'): Promise<string[]> {
    const out: string[] = [];
    try {
      const iter = await this.#kv.keys(filter);
      for await (const k of iter) out.push(k);
    } catch (err) {
      throw natsFailure(err, 'list keys', this.name, filter);
    }
    return out;
  }

  /** Live entries matching a filter (one read per key, so meant for hundreds, not millions). */
  async list(filter = '>'): Promise<Versioned<T>[]> {
    const keys = await this.keys(filter);
    const entries = await Promise.all(keys.map((k) => this.get(k)));
    return entries.filter((e): e is Versioned<T> => e !== null);
  }

  /**
   * Follows the keys matching `filter`: first the live value of each, then every change as it
   * happens (`value` null for a delete). Values that fail validation are passed to `onError` and
   * skipped. Returns once the watch is established; `stop()` ends it.
   */
  async watch(
    filter: string,
    onChange: (change: { key: string; value: T | null; revision: number }) => void,
    onError: (err: unknown) => void,
  ): Promise<{ stop(): void }> {
    let iter;
    try {
      iter = await this.#kv.watch({ key: filter });
    } catch (err) {
      throw natsFailure(err, 'watch', this.name, filter);
    }
    const follow = async (): Promise<void> => {
      for await (const e of iter) {
        try {
          onChange({ key: e.key, value: e.operation === 'PUT' ? this.#decode(e.key, e.revision, e.value) : null, revision: e.revision });
        } catch (err) {
          onError(err);
        }
      }
    };
    // The loop ends when stop() closes the iterator; a failure of the watch itself goes to onError.
    follow().catch(onError);
    return { stop: () => iter.stop() };
  }

  async #read(key: string): Promise<KeyState<T>> {
    let raw;
    try {
      raw = await this.#kv.get(key);
    } catch (err) {
      throw natsFailure(err, 'get', this.name, key);
    }
    if (raw === null) return { entry: null, lastRevision: 0 };
    if (raw.operation !== 'PUT') return { entry: null, lastRevision: raw.revision };
    return { entry: { key, value: this.#decode(key, raw.revision, raw.value), revision: raw.revision }, lastRevision: raw.revision };
  }

  #decode(key: string, revision: number, bytes: Uint8Array): T {
    let json: unknown;
    try {
      json = JSON.parse(decoder.decode(bytes));
    } catch (err) {
      throw new CorruptValueError(this.name, key, revision, 'not JSON', err);
    }
    const parsed = this.#schema.safeParse(json);
    if (!parsed.success) {
      throw new CorruptValueError(this.name, key, revision, describeZodError(parsed.error, json).join('; '), parsed.error);
    }
    return parsed.data;
  }

  #encode(key: string, value: T): string {
    const parsed = this.#schema.safeParse(value);
    if (!parsed.success) {
      throw new InvalidArgumentError(`${this.name}/${key}`, value, describeZodError(parsed.error, value).join('; '), {
        cause: parsed.error,
      });
    }
    return JSON.stringify(value);
  }

  #exhausted(action: string, key: string, retries: number, cause: unknown): ConflictError {
    return new ConflictError(
      `${action} of KV bucket ${this.name} key ${key} still conflicted after ${retries + 1} attempts`,
      { cause, details: { bucket: this.name, kvKey: key, attempts: retries + 1 } },
    );
  }
}

/** Jittered exponential pause between conflicting attempts, so racing writers spread out. */
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(100, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
