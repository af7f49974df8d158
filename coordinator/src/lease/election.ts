/**
 * Leader election over the leases bucket, after Choria's KV election: a candidate wins by
 * `create`-ing the lease key; the leader renews at about 0.75×TTL with `update` on the revision it
 * last wrote; any failed or late renewal makes it step down at once. The bucket's max age is the
 * TTL, so a dead leader's key disappears and the next `create` succeeds. A new leader announces
 * itself only after its first successful renewal, which gives a deposed one time to notice.
 *
 * Fencing: the revision of the winning `create` is the term's fencing token. Revisions are stream
 * sequences, so every later term's token is larger than anything written in earlier terms. Agents
 * refuse calls carrying a token lower than the newest they have seen.
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { FailedPreconditionError, InvalidArgumentError, buckets, type Logger } from '@phoenix/shared';
import { z } from 'zod';
import type { TypedBucket } from '../state/bucket.js';
import { isCasConflict } from '../state/errors.js';
import { kvKey } from '../state/keys.js';
import type { StateStore } from '../state/store.js';
import { realTimers, type Timers } from './timers.js';

export const DEFAULT_LEADER_KEY = kvKey('coordinator', 'leader');

export const leaseRecordSchema = z.object({
  holder: z.string().min(1),
  ttlMs: z.number().int().positive(),
  acquiredAt: z.string(),
  renewedAt: z.string(),
  /** Written from the first renewal on; the create revision until then. */
  fencingToken: z.number().int().positive().optional(),
});
export type LeaseRecord = z.infer<typeof leaseRecordSchema>;

/** Why a leader stopped leading. */
export type LossReason =
  /** The lease key is no longer at our revision: someone else holds it (or it expired). */
  | 'conflict'
  /** A renewal was not confirmed before the lease could have expired (paused process, slow NATS). */
  | 'late'
  /** A renewal failed for another reason (NATS unreachable); the lease may still exist. */
  | 'error'
  /** stop() was called. */
  | 'stopped';

export type ElectionState = 'stopped' | 'candidate' | 'elected' | 'leader';

export interface ElectionEvents {
  /** This coordinator now leads; `token` is the fencing token for every outgoing call. */
  elected: [token: number];
  /** This coordinator no longer leads; stop acting at once. */
  lost: [reason: LossReason];
}

/** Counters for metrics (monotonic, never reset). */
export interface ElectionStats {
  campaigns: number;
  /** Terms won (creates that succeeded). */
  terms: number;
  renewals: number;
  renewalFailures: number;
  stepDowns: number;
}

export interface LeaderElectionOptions {
  /** This coordinator's identity in the lease. @default `<hostname>-<pid>` */
  id?: string;
  /** Lease key in the leases bucket. @default DEFAULT_LEADER_KEY */
  key?: string;
  /** Renewal period as a fraction of the TTL. @default 0.75 */
  renewFraction?: number;
  /** Campaign period while not leading, as a fraction of the TTL (randomised ±20%). @default 0.5 */
  campaignFraction?: number;
  /**
   * Fraction of the TTL kept as safety margin for clock-rate differences: the leader counts
   * itself deposed at `renewal sent + TTL × (1 − margin)`. @default 0.05
   */
  marginFraction?: number;
  /** Announce only after the first renewal (see above). @default true */
  announceAfterRenewal?: boolean;
  timers?: Timers;
  logger?: Logger;
}

/** Thrown when a leader-only action is attempted without the lease. */
export class NotLeaderError extends FailedPreconditionError {
  constructor(id: string) {
    super(`coordinator ${id} is not the leader`, { details: { coordinator: id } });
  }
}

interface Term {
  readonly gen: number;
  readonly token: number;
  readonly acquiredAt: string;
  revision: number;
  /** Local monotonic time after which the lease may have expired. */
  deadline: number;
  renewTimer?: unknown;
  watchdog?: unknown;
}

export class LeaderElection extends EventEmitter<ElectionEvents> {
  readonly id: string;
  readonly key: string;
  readonly #store: StateStore;
  readonly #bucket: TypedBucket<LeaseRecord>;
  readonly #timers: Timers;
  readonly #logger: Logger | undefined;
  readonly #renewFraction: number;
  readonly #campaignFraction: number;
  readonly #marginFraction: number;
  readonly #announceAfterRenewal: boolean;
  #ttlMs = 0;
  #state: ElectionState = 'stopped';
  #gen = 0;
  #term: Term | undefined;
  #campaignTimer: unknown;
  readonly #stats: ElectionStats = { campaigns: 0, terms: 0, renewals: 0, renewalFailures: 0, stepDowns: 0 };

  constructor(store: StateStore, options: LeaderElectionOptions = {}) {
    super();
    this.#store = store;
    this.id = options.id ?? `${hostname()}-${process.pid}`;
    this.key = options.key ?? DEFAULT_LEADER_KEY;
    this.#bucket = store.bucket(buckets.leases, leaseRecordSchema);
    this.#timers = options.timers ?? realTimers;
    this.#logger = options.logger;
    this.#renewFraction = fraction('renewFraction', options.renewFraction ?? 0.75, 0.1, 0.9);
    this.#campaignFraction = fraction('campaignFraction', options.campaignFraction ?? 0.5, 0.05, 1);
    this.#marginFraction = fraction('marginFraction', options.marginFraction ?? 0.05, 0, 0.2);
    if (this.#renewFraction >= 1 - this.#marginFraction) {
      throw new InvalidArgumentError('renewFraction', this.#renewFraction, 'must leave room before the safety margin');
    }
    this.#announceAfterRenewal = options.announceAfterRenewal ?? true;
  }

  get state(): ElectionState {
    return this.#state;
  }

  /** The lease TTL in force (the leases bucket's max age), in millis. */
  get ttlMs(): number {
    return this.#ttlMs;
  }

  get stats(): Readonly<ElectionStats> {
    return { ...this.#stats };
  }

  /** True only while leading and before the lease could have expired (checked on the clock, not by a timer). */
  isLeader(): boolean {
    return this.#state === 'leader' && this.#term !== undefined && this.#timers.now() < this.#term.deadline;
  }

  /** The fencing token to attach to every outgoing call, or undefined when not leading. */
  currentToken(): number | undefined {
    return this.isLeader() ? this.#term?.token : undefined;
  }

  /** The fencing token; NotLeaderError when not leading. */
  requireToken(): number {
    const token = this.currentToken();
    if (token === undefined) throw new NotLeaderError(this.id);
    return token;
  }

  /** Starts campaigning. The TTL is read from the leases bucket, so all coordinators agree on it. */
  async start(): Promise<void> {
    if (this.#state !== 'stopped') return;
    const status = await this.#store.kv(buckets.leases).status();
    this.#ttlMs = status.ttl > 0 ? status.ttl : this.#store.leaseTtlMs;
    this.#state = 'candidate';
    // A small random splay so coordinators started together do not campaign in lockstep.
    this.#scheduleCampaign(Math.random() * Math.min(250, this.#campaignPeriod() / 4));
  }

  /**
   * Stops campaigning. A leader steps down (emitting `lost('stopped')`) and, unless
   * `resign: false`, deletes its lease key so a successor need not wait out the TTL.
   */
  async stop(options: { resign?: boolean } = {}): Promise<void> {
    if (this.#state === 'stopped') return;
    const term = this.#term;
    this.#endTerm('stopped');
    this.#state = 'stopped';
    // Invalidates a campaign still in flight, even if start() is called again before it returns.
    this.#gen++;
    this.#clearCampaign();
    if (term && options.resign !== false) await this.#release(term.revision);
  }

  /** Who holds the lease now, read from KV (any coordinator or tool may ask). */
  async leader(): Promise<{ holder: string; fencingToken: number; revision: number; renewedAt: string } | null> {
    const entry = await this.#bucket.get(this.key);
    if (!entry) return null;
    return {
      holder: entry.value.holder,
      fencingToken: entry.value.fencingToken ?? entry.revision,
      revision: entry.revision,
      renewedAt: entry.value.renewedAt,
    };
  }

  #campaignPeriod(): number {
    return this.#ttlMs * this.#campaignFraction;
  }

  #scheduleCampaign(delayMs?: number): void {
    this.#clearCampaign();
    const jittered = delayMs ?? this.#campaignPeriod() * (0.8 + Math.random() * 0.4);
    this.#campaignTimer = this.#timers.setTimeout(() => void this.#campaign(), jittered);
  }

  #clearCampaign(): void {
    if (this.#campaignTimer !== undefined) this.#timers.clearTimeout(this.#campaignTimer);
    this.#campaignTimer = undefined;
  }

  async #campaign(): Promise<void> {
    this.#campaignTimer = undefined;
    if (this.#state !== 'candidate') return;
    this.#stats.campaigns++;
    const gen = ++this.#gen;
    const sentAt = this.#timers.now();
    const at = new Date().toISOString();
    const record: LeaseRecord = { holder: this.id, ttlMs: this.#ttlMs, acquiredAt: at, renewedAt: at };
    let won: number | undefined;
    try {
      const outcome = await this.#bucket.createOrGet(this.key, record, { retries: 2 });
      if (outcome.created) won = outcome.entry.revision;
    } catch (err) {
      this.#logger?.warn({ err, coordinator: this.id }, 'lease campaign failed');
    }
    if (gen !== this.#gen || this.#state !== 'candidate') {
      // Stopped while the create was in flight: give back what we may have won.
      if (won !== undefined) await this.#release(won);
      return;
    }
    if (won === undefined) {
      this.#scheduleCampaign();
      return;
    }
    this.#stats.terms++;
    const term: Term = { gen, token: won, acquiredAt: at, revision: won, deadline: sentAt + this.#lifetime() };
    this.#term = term;
    this.#state = 'elected';
    this.#logger?.info({ coordinator: this.id, fencingToken: won }, 'won the leader lease');
    this.#armTerm(term);
    if (!this.#announceAfterRenewal) this.#announce(term);
  }

  #armTerm(term: Term): void {
    term.renewTimer = this.#timers.setTimeout(() => void this.#renew(term), this.#ttlMs * this.#renewFraction);
    if (term.watchdog !== undefined) this.#timers.clearTimeout(term.watchdog);
    term.watchdog = this.#timers.setTimeout(() => this.#checkDeadline(term), Math.max(0, term.deadline - this.#timers.now()));
  }

  async #renew(term: Term): Promise<void> {
    if (this.#term !== term) return;
    const sentAt = this.#timers.now();
    const record: LeaseRecord = {
      holder: this.id,
      ttlMs: this.#ttlMs,
      acquiredAt: term.acquiredAt,
      renewedAt: new Date().toISOString(),
      fencingToken: term.token,
    };
    let revision: number | undefined;
    let failure: LossReason | undefined;
    try {
      revision = (await this.#bucket.replace(this.key, record, term.revision)).revision;
    } catch (err) {
      failure = isCasConflict((err as Error).cause) ? 'conflict' : 'error';
      this.#logger?.warn({ err, coordinator: this.id }, 'lease renewal failed');
    }
    if (this.#term !== term) {
      // Deposed (late) while the renewal was in flight; if it went through, free the key.
      if (revision !== undefined) await this.#release(revision);
      return;
    }
    if (revision === undefined) {
      this.#stats.renewalFailures++;
      this.#stepDown(failure ?? 'error');
      return;
    }
    if (this.#timers.now() >= term.deadline) {
      // Confirmed only after the lease could have lapsed: someone may have acted as leader since.
      this.#stats.renewalFailures++;
      this.#stepDown('late');
      await this.#release(revision);
      return;
    }
    this.#stats.renewals++;
    term.revision = revision;
    term.deadline = sentAt + this.#lifetime();
    this.#armTerm(term);
    if (this.#state === 'elected') this.#announce(term);
  }

  #checkDeadline(term: Term): void {
    if (this.#term !== term) return;
    if (this.#timers.now() >= term.deadline) {
      this.#stats.renewalFailures++;
      this.#stepDown('late');
    }
  }

  #announce(term: Term): void {
    this.#state = 'leader';
    this.#logger?.info({ coordinator: this.id, fencingToken: term.token }, 'leading');
    this.#emitSafely('elected', term.token);
  }

  #stepDown(reason: LossReason): void {
    this.#endTerm(reason);
    if (this.#state !== 'stopped') {
      this.#state = 'candidate';
      this.#scheduleCampaign();
    }
  }

  /** Ends the current term (if any), emitting `lost` when it had been announced. */
  #endTerm(reason: LossReason): void {
    const term = this.#term;
    if (!term) return;
    const wasLeader = this.#state === 'leader';
    this.#term = undefined;
    this.#gen++;
    if (term.renewTimer !== undefined) this.#timers.clearTimeout(term.renewTimer);
    if (term.watchdog !== undefined) this.#timers.clearTimeout(term.watchdog);
    this.#stats.stepDowns++;
    this.#logger?.warn({ coordinator: this.id, fencingToken: term.token, reason }, 'stepped down');
    if (wasLeader) this.#emitSafely('lost', reason);
  }

  /** Deletes the lease key if it is still at `revision` (ours); anything else is left alone. */
  async #release(revision: number): Promise<void> {
    try {
      await this.#bucket.delete(this.key, { revision });
    } catch (err) {
      this.#logger?.debug({ err, coordinator: this.id }, 'lease not released (no longer ours)');
    }
  }

  #lifetime(): number {
    return this.#ttlMs * (1 - this.#marginFraction);
  }

  #emitSafely<E extends keyof ElectionEvents>(event: E, ...args: ElectionEvents[E]): void {
    try {
      (this.emit as (e: E, ...a: ElectionEvents[E]) => boolean)(event, ...args);
    } catch (err) {
      this.#logger?.error({ err, coordinator: this.id, event }, 'election listener threw');
    }
  }
}

function fraction(field: string, value: number, min: number, max: number): number {
  if (!(value >= min && value <= max)) throw new InvalidArgumentError(field, value, `must be between ${min} and ${max}`);
  return value;
}
