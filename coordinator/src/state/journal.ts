/**
 * The apply journal: per apply run and per step, who started it, under which fencing token, and
 * how it ended. Starting a step is a KV `create`, so of two coordinators racing for the same step
 * exactly one wins; the other gets StepOwnedError and knows someone else owns it. A coordinator
 * that takes over after a leader died resumes the run from here: done steps are skipped, and a
 * step left "started" is taken over (compare-and-set, one winner) and re-driven with the same
 * idempotency key, so the agent returns the first call's result instead of doing the work twice.
 */
import { ConflictError, FailedPreconditionError, NotFoundError, StaleLeaderError, buckets } from '@phoenix/shared';
import { z } from 'zod';
import type { TypedBucket, Versioned } from './bucket.js';
import { KEEP } from './bucket.js';
import { kvKey, kvPrefix } from './keys.js';
import type { StateStore } from './store.js';

/** Who writes: a coordinator's id and the fencing token of its current leader term. */
export interface JournalActor {
  readonly owner: string;
  readonly fencingToken: number;
}

const jsonRecord = z.record(z.string(), z.unknown());

export const runStateSchema = z.enum(['running', 'succeeded', 'failed', 'partial']);
export type RunState = z.infer<typeof runStateSchema>;

export const runRecordSchema = z.object({
  runId: z.string().min(1),
  owner: z.string().min(1),
  fencingToken: z.number().int().nonnegative(),
  state: runStateSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  meta: jsonRecord.optional(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

export const stepStateSchema = z.enum(['started', 'done', 'failed']);
export type StepState = z.infer<typeof stepStateSchema>;

export const stepRecordSchema = z.object({
  runId: z.string().min(1),
  stepId: z.string().min(1),
  state: stepStateSchema,
  owner: z.string().min(1),
  fencingToken: z.number().int().nonnegative(),
  /** 1 on the first try; bumped by a retry after a recorded failure (new idempotency key). */
  attempt: z.number().int().positive(),
  /** How often a new owner took over this attempt (same idempotency key). */
  takeovers: z.number().int().nonnegative(),
  /** Sent with the agent call; stays the same across takeovers of one attempt. */
  idempotencyKey: z.string().min(1),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  result: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  detail: jsonRecord.optional(),
});
export type StepRecord = z.infer<typeof stepRecordSchema>;

/** Proof of owning a started step: the revision the owner's writes compare against. */
export interface StepHandle {
  readonly runId: string;
  readonly stepId: string;
  readonly revision: number;
  readonly record: StepRecord;
}

/** Someone else already started (or finished) this step. `current` says who and how far. */
export class StepOwnedError extends ConflictError {
  readonly current: StepRecord;
  readonly revision: number;
  constructor(current: StepRecord, revision: number) {
    const what = current.state === 'started' ? 'is already started' : `is already ${current.state}`;
    super(`step ${current.stepId} of run ${current.runId} ${what} by ${current.owner} (fencing token ${current.fencingToken})`, {
      details: { runId: current.runId, stepId: current.stepId, owner: current.owner, state: current.state, revision },
    });
    this.current = current;
    this.revision = revision;
  }
}

/** A write under a fencing token older than one already recorded: the writer is no longer leader. */
export class StaleFencingTokenError extends StaleLeaderError {
  constructor(what: string, have: number, newest: number) {
    super(`${what}: fencing token ${have} is older than ${newest}; this coordinator is no longer the leader`, {
      details: { fencingToken: have, newestFencingToken: newest },
    });
  }
}

/** The key sent with a step's agent calls: stable across takeovers, new for a retry after failure. */
export function idempotencyKeyFor(runId: string, stepId: string, attempt: number, base?: string): string {
  return `${base ?? `${runId}/${stepId}`}#${attempt}`;
}

export class ApplyJournal {
  readonly #runs: TypedBucket<RunRecord>;
  readonly #steps: TypedBucket<StepRecord>;
  readonly #now: () => Date;

  constructor(store: StateStore, options: { now?: () => Date } = {}) {
    this.#runs = store.bucket(buckets.journal, runRecordSchema);
    this.#steps = store.bucket(buckets.journal, stepRecordSchema);
    this.#now = options.now ?? (() => new Date());
  }

  /** Records a new run; AlreadyExistsError if the id is taken. */
  async startRun(runId: string, actor: JournalActor, meta?: Record<string, unknown>): Promise<RunRecord> {
    const at = this.#now().toISOString();
    const record: RunRecord = {
      runId,
      owner: actor.owner,
      fencingToken: actor.fencingToken,
      state: 'running',
      createdAt: at,
      updatedAt: at,
      ...(meta === undefined ? {} : { meta }),
    };
    return (await this.#runs.create(runKey(runId), record)).value;
  }

  /** A newer leader adopts an unfinished run. Refused for an older token. */
  async resumeRun(runId: string, actor: JournalActor): Promise<RunRecord> {
    const out = await this.#runs.update(runKey(runId), (cur) => {
      if (!cur) throw new NotFoundError(`apply run ${runId} does not exist`, { details: { runId } });
      if (cur.value.fencingToken > actor.fencingToken) {
        throw new StaleFencingTokenError(`resume run ${runId}`, actor.fencingToken, cur.value.fencingToken);
      }
      if (cur.value.owner === actor.owner && cur.value.fencingToken === actor.fencingToken) return KEEP;
      return { ...cur.value, owner: actor.owner, fencingToken: actor.fencingToken, updatedAt: this.#now().toISOString() };
    });
    return out!.value;
  }

  async finishRun(runId: string, actor: JournalActor, state: Exclude<RunState, 'running'>): Promise<RunRecord> {
    const out = await this.#runs.update(runKey(runId), (cur) => {
      if (!cur) throw new NotFoundError(`apply run ${runId} does not exist`, { details: { runId } });
      if (cur.value.fencingToken > actor.fencingToken) {
        throw new StaleFencingTokenError(`finish run ${runId}`, actor.fencingToken, cur.value.fencingToken);
      }
      return { ...cur.value, state, owner: actor.owner, fencingToken: actor.fencingToken, updatedAt: this.#now().toISOString() };
    });
    return out!.value;
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    return (await this.#runs.get(runKey(runId)))?.value ?? null;
  }

  async listRuns(): Promise<RunRecord[]> {
    return (await this.#runs.list(kvPrefix('run'))).map((e) => e.value);
  }

  /**
   * Marks a step started by `actor`. Exactly one caller wins per step: anyone later gets
   * StepOwnedError carrying the current record (started by someone, done, or failed). With
   * `retryFailed`, a step recorded as failed is started again as the next attempt.
   * `idempotencyKey` sets the base of the key sent to agents (default `<run>/<step>`).
   */
  async recordStepStarted(
    runId: string,
    stepId: string,
    actor: JournalActor,
    options: { retryFailed?: boolean; detail?: Record<string, unknown>; idempotencyKey?: string } = {},
  ): Promise<StepHandle> {
    await this.#checkRunToken(runId, actor, `start step ${stepId}`);
    const key = stepKey(runId, stepId);
    const fresh = this.#startedRecord(runId, stepId, actor, 1, options);
    const outcome = await this.#steps.createOrGet(key, fresh);
    if (outcome.created) return handle(outcome.entry);
    const current = outcome.entry;
    if (current.value.state !== 'failed' || options.retryFailed !== true) {
      throw new StepOwnedError(current.value, current.revision);
    }
    const retry = this.#startedRecord(runId, stepId, actor, current.value.attempt + 1, options);
    try {
      return handle(await this.#steps.replace(key, retry, current.revision));
    } catch (err) {
      throw await this.#ownedOr(key, err);
    }
  }

  /**
   * Takes over a step another coordinator started and never finished (it died or was deposed).
   * Compare-and-set on the revision the caller saw, so of several would-be successors one wins.
   * Allowed for a newer fencing token, or for the same owner and token reclaiming its own step.
   */
  async takeOverStep(runId: string, stepId: string, actor: JournalActor, seenRevision: number): Promise<StepHandle> {
    const key = stepKey(runId, stepId);
    const current = await this.#steps.get(key);
    if (!current) throw new NotFoundError(`step ${stepId} of run ${runId} was never started`, { details: { runId, stepId } });
    if (current.revision !== seenRevision || current.value.state !== 'started') {
      throw new StepOwnedError(current.value, current.revision);
    }
    const own = current.value.owner === actor.owner && current.value.fencingToken === actor.fencingToken;
    if (!own && current.value.fencingToken >= actor.fencingToken) {
      throw new StaleFencingTokenError(`take over step ${stepId} of run ${runId}`, actor.fencingToken, current.value.fencingToken);
    }
    if (own) return handle(current);
    const next: StepRecord = {
      ...current.value,
      owner: actor.owner,
      fencingToken: actor.fencingToken,
      takeovers: current.value.takeovers + 1,
    };
    try {
      return handle(await this.#steps.replace(key, next, current.revision));
    } catch (err) {
      throw await this.#ownedOr(key, err);
    }
  }

  /** Marks the owned step done. ConflictError (StepOwnedError) if it was taken over meanwhile. */
  async recordStepDone(step: StepHandle, result?: unknown): Promise<StepHandle> {
    return this.#finish(step, { state: 'done', ...(result === undefined ? {} : { result }) });
  }

  async recordStepFailed(step: StepHandle, error: { code: string; message: string }): Promise<StepHandle> {
    return this.#finish(step, { state: 'failed', error });
  }

  async getStep(runId: string, stepId: string): Promise<Versioned<StepRecord> | null> {
    return this.#steps.get(stepKey(runId, stepId));
  }

  async listSteps(runId: string): Promise<StepRecord[]> {
    return (await this.#steps.list(kvPrefix('step', runId))).map((e) => e.value);
  }

  /** Removes a finished run and its steps. */
  async deleteRun(runId: string): Promise<void> {
    const keys = [...(await this.#steps.keys(kvPrefix('step', runId))), runKey(runId)];
    for (const key of keys) await this.#steps.delete(key);
  }

  async #finish(step: StepHandle, change: Pick<StepRecord, 'state'> & Partial<StepRecord>): Promise<StepHandle> {
    if (step.record.state !== 'started') {
      throw new FailedPreconditionError(`step ${step.stepId} of run ${step.runId} is ${step.record.state}, not started`);
    }
    const key = stepKey(step.runId, step.stepId);
    const next: StepRecord = { ...step.record, ...change, finishedAt: this.#now().toISOString() };
    try {
      return handle(await this.#steps.replace(key, next, step.revision));
    } catch (err) {
      throw await this.#ownedOr(key, err);
    }
  }

  async #checkRunToken(runId: string, actor: JournalActor, what: string): Promise<void> {
    const run = await this.#runs.get(runKey(runId));
    if (!run) throw new NotFoundError(`apply run ${runId} does not exist`, { details: { runId } });
    if (run.value.fencingToken > actor.fencingToken) {
      throw new StaleFencingTokenError(`${what} of run ${runId}`, actor.fencingToken, run.value.fencingToken);
    }
  }

  /** After a lost compare-and-set: the error naming whoever holds the step now. */
  async #ownedOr(key: string, err: unknown): Promise<unknown> {
    if (!(err instanceof ConflictError)) return err;
    const now = await this.#steps.get(key);
    return now ? new StepOwnedError(now.value, now.revision) : err;
  }

  #startedRecord(
    runId: string,
    stepId: string,
    actor: JournalActor,
    attempt: number,
    options: { detail?: Record<string, unknown>; idempotencyKey?: string },
  ): StepRecord {
    const { detail } = options;
    return {
      runId,
      stepId,
      state: 'started',
      owner: actor.owner,
      fencingToken: actor.fencingToken,
      attempt,
      takeovers: 0,
      idempotencyKey: idempotencyKeyFor(runId, stepId, attempt, options.idempotencyKey),
      startedAt: this.#now().toISOString(),
      ...(detail === undefined ? {} : { detail }),
    };
  }
}

function runKey(runId: string): string {
  return kvKey('run', runId);
}

function stepKey(runId: string, stepId: string): string {
  return kvKey('step', runId, stepId);
}

function handle(entry: Versioned<StepRecord>): StepHandle {
  return { runId: entry.value.runId, stepId: entry.value.stepId, revision: entry.revision, record: entry.value };
}
