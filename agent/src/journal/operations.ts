/**
 * Runs mutating operations so they survive failure:
 *  - a retry of a finished key returns the recorded result (streams get the recorded result event);
 *  - a retry of a running key attaches to it (a second stream receives the ongoing events);
 *  - a key whose last run was interrupted, or failed with a retryable error, runs again;
 *  - one lock per guest, waited for up to a bound, then BUSY;
 *  - stale fencing tokens are refused;
 *  - no new operation while the agent starts or drains (UNAVAILABLE; retries of known keys still answer);
 *  - an operation is cancelled when every caller waiting on it has gone, or at shutdown.
 */
import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  agentv1,
  CancelledError,
  ERROR_CLASSES,
  errorFromCode,
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
  isErrorCode,
  isPhoenixError,
  type commonv1,
  type Logger,
} from '@phoenix/shared';
import type { FencingGuard } from './fencing.js';
import type { LockTable } from './locks.js';
import type { OperationJournal, OperationRecord } from './store.js';

export type OperationOutcome = 'succeeded' | 'failed' | 'cancelled' | 'interrupted' | 'rejected' | 'replayed';

export interface OperationObserver {
  finished(kind: string, outcome: OperationOutcome, seconds: number): void;
}

/** What the work of an operation sees. */
export interface OperationHandle {
  readonly id: string;
  readonly key: string;
  readonly attempt: number;
  /** Aborted when every caller has gone or at the shutdown deadline; pass it down to the tools. */
  readonly signal: AbortSignal;
  /** True when another operation of this agent holds guest `vmid` (its PVE locks are live, not stale). */
  isOperationActive(vmid: number): boolean;
  step(progress: Partial<agentv1.StepProgress> & { step: string }): void;
  log(line: Partial<agentv1.LogLine> & { line: string }): void;
}

export interface WorkOutcome<Res> {
  result: Omit<Partial<agentv1.OperationResult>, 'ok' | 'errorCode' | 'errorMessage'>;
  /** Builds the unary response from the final result (streams need none). */
  respond?: (result: agentv1.OperationResult) => Res;
}

export interface OperationSpec<Res> {
  /** RPC name. */
  kind: string;
  context: commonv1.OperationContext | undefined;
  vmid: number;
  /** Lock keys, e.g. `guest:101` (a clone also takes its source). */
  lockKeys: string[];
  /** The request without its context, for the digest that guards against key reuse. */
  request: unknown;
  /** Verified `role/name` of the caller. */
  caller: string;
  /** Proto JSON codec for the unary response, so a retry can replay it. */
  responseCodec?: { toJSON(value: Res): unknown; fromJSON(value: unknown): Res };
  work(handle: OperationHandle): Promise<WorkOutcome<Res>>;
}

/** Reason given to operations cancelled at the shutdown deadline: recorded as interrupted. */
export class ShutdownCancelledError extends CancelledError {}

const MAX_BUFFERED_EVENTS = 20_000;

class RunningOperation {
  readonly events: agentv1.OperationEvent[] = [];
  readonly controller = new AbortController();
  interest = 0;
  done = false;
  droppedLogs = 0;
  result: agentv1.OperationResult | undefined;
  response: unknown;
  error: unknown;
  private wake: (() => void) | undefined;
  private changed: Promise<void>;
  readonly finished: Promise<void>;
  private resolveFinished!: () => void;

  constructor(
    readonly record: OperationRecord,
    readonly started: number,
  ) {
    this.changed = new Promise((r) => (this.wake = r));
    this.finished = new Promise((r) => (this.resolveFinished = r));
  }

  push(kind: agentv1.OperationEvent['kind']): void {
    if (kind?.$case === 'log' && this.events.length >= MAX_BUFFERED_EVENTS) {
      this.droppedLogs++;
      return;
    }
    this.events.push({ operationId: this.record.id, seq: this.events.length + 1, time: new Date(), kind });
    this.notify();
  }

  complete(): void {
    this.done = true;
    this.notify();
    this.resolveFinished();
  }

  /** Resolves at the next event or completion, or rejects when `signal` aborts. */
  nextChange(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      void this.changed.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.changed = new Promise((r) => (this.wake = r));
    wake?.();
  }
}

export interface OperationManagerOptions {
  journal: OperationJournal;
  fencing: FencingGuard;
  locks: LockTable;
  log: Logger;
  lockWaitMs: number;
  /** Throws (UnavailableError) when the agent takes no new operations: starting or draining. */
  admit(): void;
  observer?: OperationObserver;
}

export class OperationManager {
  private readonly running = new Map<string, RunningOperation>();
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: OperationManagerOptions) {}

  get runningCount(): number {
    return this.running.size;
  }

  /** Resolves when no operation runs. */
  idle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels every running operation (their child process groups are killed through the signal). */
  abortAll(reason: Error): void {
    for (const op of this.running.values()) if (!op.controller.signal.aborted) op.controller.abort(reason);
  }

  /** Runs (or attaches to, or replays) a unary operation and returns its response. */
  async runUnary<Res>(spec: OperationSpec<Res>, signal: AbortSignal): Promise<Res> {
    const started = this.start(spec, signal);
    if (started.replay) {
      const record = started.replay;
      this.options.observer?.finished(spec.kind, 'replayed', 0);
      const result = agentv1.OperationResult.fromJSON(record.result ?? {});
      if (!result.ok) throw recordedError(result);
      if (record.response === undefined || !spec.responseCodec) {
        throw new InternalError(`operation ${record.id} has no recorded response to replay`);
      }
      return spec.responseCodec.fromJSON(record.response);
    }
    const op = started.op;
    await this.follow(op, signal, undefined);
    if (op.error !== undefined) throw op.error;
    return op.response as Res;
  }

  /**
   * Runs (or attaches to, or replays) a streaming operation, writing every event to `sink`. Ends with
   * the result event; a failed result is also thrown so the stream ends with the matching status.
   */
  async runStream<Res>(
    spec: OperationSpec<Res>,
    signal: AbortSignal,
    sink: (event: agentv1.OperationEvent) => Promise<void>,
  ): Promise<agentv1.OperationResult> {
    const started = this.start(spec, signal);
    if (started.replay) {
      const record = started.replay;
      this.options.observer?.finished(spec.kind, 'replayed', 0);
      const result = agentv1.OperationResult.fromJSON(record.result ?? {});
      await sink({ operationId: record.id, seq: 1, time: new Date(), kind: { $case: 'result', value: result } });
      if (!result.ok) throw recordedError(result);
      return result;
    }
    const op = started.op;
    await this.follow(op, signal, sink);
    if (op.error !== undefined) throw op.error;
    return op.result as agentv1.OperationResult;
  }

  /** Either the record to replay or the running operation to follow (new or attached). */
  private start<Res>(spec: OperationSpec<Res>, signal: AbortSignal): { replay: OperationRecord; op?: never } | { replay?: never; op: RunningOperation } {
    const key = spec.context?.idempotencyKey ?? '';
    if (key.length === 0 || key.length > 200) {
      throw new InvalidArgumentError('context.idempotency_key', key, 'every mutating call needs an idempotency key (1-200 characters)');
    }
    const digest = digestOf(spec.kind, spec.request);
    const running = this.running.get(key);
    const recorded = running?.record ?? this.options.journal.get(key);
    if (recorded && (recorded.kind !== spec.kind || recorded.requestDigest !== digest)) {
      throw new FailedPreconditionError(
        `idempotency key ${JSON.stringify(key)} was used for a different request (${recorded.kind}, operation ${recorded.id})`,
      );
    }
    if (running) {
      this.options.log.info({ key, operation: running.record.id }, 'attached to the running operation');
      this.addInterest(running, signal);
      return { op: running };
    }
    if (recorded && !mayRunAgain(recorded)) return { replay: recorded };
    try {
      this.options.admit();
    } catch (err) {
      this.options.observer?.finished(spec.kind, 'rejected', 0);
      throw err;
    }
    const now = new Date();
    const record: OperationRecord = {
      version: 1,
      id: randomUUID(),
      key,
      kind: spec.kind,
      vmid: spec.vmid,
      phase: 'running',
      requester: spec.context?.requester || spec.caller,
      caller: spec.caller,
      fencingToken: spec.context?.fencingToken ?? 0,
      requestDigest: digest,
      attempt: (recorded?.attempt ?? 0) + 1,
      startedAt: now.toISOString(),
    };
    const op = new RunningOperation(record, performance.now());
    this.running.set(key, op);
    this.addInterest(op, signal);
    void this.execute(op, spec, recorded);
    return { op };
  }

  private addInterest(op: RunningOperation, signal: AbortSignal): void {
    op.interest++;
    const onAbort = (): void => {
      op.interest--;
      if (op.interest === 0 && !op.done && !op.controller.signal.aborted) {
        op.controller.abort(signal.reason instanceof Error ? signal.reason : new CancelledError('every caller went away'));
      }
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    void op.finished.then(() => signal.removeEventListener('abort', onAbort));
  }

  private async execute<Res>(op: RunningOperation, spec: OperationSpec<Res>, previous: OperationRecord | undefined): Promise<void> {
    const { journal, fencing, locks, log } = this.options;
    const opLog = log.child({ operation: op.record.id, kind: spec.kind, key: op.record.key, vmid: spec.vmid });
    let release: (() => void) | undefined;
    let journaled = false;
    let outcome: OperationOutcome = 'failed';
    try {
      await fencing.admit(op.record.fencingToken);
      release = await locks.acquire(spec.lockKeys, {
        holder: { id: op.record.id, label: `operation ${op.record.id} (${spec.kind})` },
        waitMs: this.options.lockWaitMs,
        signal: op.controller.signal,
      });
      await journal.put(op.record);
      journaled = true;
      opLog.info({ attempt: op.record.attempt, previous: previous?.phase }, 'operation started');
      const handle: OperationHandle = {
        id: op.record.id,
        key: op.record.key,
        attempt: op.record.attempt,
        signal: op.controller.signal,
        isOperationActive: (vmid) => {
          const holder = locks.holderOf(guestLockKey(vmid));
          return holder !== undefined && holder.id !== op.record.id;
        },
        step: (p) => op.push({ $case: 'step', value: agentv1.StepProgress.fromPartial(p) }),
        log: (l) => op.push({ $case: 'log', value: agentv1.LogLine.fromPartial(l) }),
      };
      const done = await spec.work(handle);
      op.controller.signal.throwIfAborted();
      op.result = agentv1.OperationResult.fromPartial({ ...done.result, ok: true, errorCode: '', errorMessage: '' });
      const response = done.respond?.(op.result);
      op.response = response;
      outcome = 'succeeded';
      await journal.put({
        ...op.record,
        phase: 'succeeded',
        finishedAt: new Date().toISOString(),
        result: agentv1.OperationResult.toJSON(op.result),
        ...(response !== undefined && spec.responseCodec ? { response: spec.responseCodec.toJSON(response) } : {}),
      });
      opLog.info({ changed: op.result.changed }, 'operation succeeded');
    } catch (caught) {
      const err = effectiveError(caught, op.controller.signal);
      op.error = err;
      const code = isPhoenixError(err) ? err.code : 'INTERNAL';
      const message = isPhoenixError(err) ? err.message : 'internal error';
      op.result = agentv1.OperationResult.fromPartial({ ok: false, errorCode: code, errorMessage: message });
      const interrupted = err instanceof ShutdownCancelledError;
      outcome = !journaled ? 'rejected' : interrupted ? 'interrupted' : code === 'CANCELLED' || code === 'TIMEOUT' ? 'cancelled' : 'failed';
      if (journaled) {
        await journal
          .put({
            ...op.record,
            phase: interrupted ? 'interrupted' : 'failed',
            finishedAt: new Date().toISOString(),
            result: agentv1.OperationResult.toJSON(op.result),
            ...(interrupted ? { needsRecovery: true } : {}),
          })
          .catch((e: unknown) => opLog.error({ err: e }, 'could not record the operation failure'));
      }
      if (isPhoenixError(err)) opLog.warn({ code, error: message }, 'operation failed');
      else opLog.error({ err }, 'operation failed with an unexpected error');
    } finally {
      release?.();
      this.running.delete(op.record.key);
      op.push({ $case: 'result', value: op.result as agentv1.OperationResult });
      op.complete();
      this.options.observer?.finished(spec.kind, outcome, (performance.now() - op.started) / 1000);
      if (this.running.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Delivers the operation's events from the first one, waiting for new ones until it is done. */
  private async follow(
    op: RunningOperation,
    signal: AbortSignal,
    sink: ((event: agentv1.OperationEvent) => Promise<void>) | undefined,
  ): Promise<void> {
    let next = 0;
    for (;;) {
      if (sink) while (next < op.events.length) await sink(op.events[next++] as agentv1.OperationEvent);
      if (op.done && (!sink || next >= op.events.length)) return;
      await op.nextChange(signal);
    }
  }
}

/** The lock key of one guest; every operation on a guest takes it. */
export function guestLockKey(vmid: number): string {
  return `guest:${vmid}`;
}

/** Interrupted keys and retryable failures run again; successes and permanent failures replay. */
function mayRunAgain(record: OperationRecord): boolean {
  if (record.phase === 'interrupted') return true;
  if (record.phase !== 'failed') return false;
  const code = (record.result as { errorCode?: string } | undefined)?.errorCode ?? '';
  return isErrorCode(code) && ERROR_CLASSES[code].retryable;
}

function recordedError(result: agentv1.OperationResult): Error {
  return errorFromCode(result.errorCode, result.errorMessage || 'the recorded operation failed');
}

/**
 * Errors thrown because the operation was aborted (a killed tool, the drivers' CancelledError)
 * report the abort's reason instead, so a shutdown is recorded as an interruption. A typed error
 * that is not about the abort (NotFound found before it) stands.
 */
function effectiveError(err: unknown, signal: AbortSignal): unknown {
  if (!signal.aborted) return err;
  const aboutTheAbort = !isPhoenixError(err) || ['CANCELLED', 'TIMEOUT', 'INTERNAL', 'COMMAND_FAILED'].includes(err.code);
  return aboutTheAbort ? signal.reason : err;
}

function digestOf(kind: string, request: unknown): string {
  return createHash('sha256').update(kind).update('\0').update(stableJson(request)).digest('hex');
}

function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}
