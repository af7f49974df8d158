/**
 * Executes a plan: guests whose dependencies are converged run in parallel, at most `perNode` per
 * node, the longest remaining chain first (the policy the estimate simulates). Clones of one source
 * go through that source's queue, one at a time, because `pct clone` holds a `disk` lock on the
 * source for the whole copy — the rest of each clone's pipeline runs outside the queue.
 * A failed guest blocks only its dependents; everything else still converges.
 */
import { remainingChain } from '../plan/estimate.js';
import type { ConcurrencyLimits, PlannedGuest } from '../plan/types.js';

export interface GuestOutcome {
  id: string;
  status: 'converged' | 'failed' | 'blocked' | 'skipped';
  changed: boolean;
  error?: unknown;
}

export type ApplyEvent =
  | { type: 'start'; guest: PlannedGuest }
  | { type: 'progress'; guest: PlannedGuest; step: string; state: string; message: string }
  | { type: 'log'; guest: PlannedGuest; step: string; line: string }
  | { type: 'done'; guest: PlannedGuest; outcome: GuestOutcome };

/**
 * What the executor needs from the outside world (agents, journal); faked in unit tests. `key` is
 * the journal's idempotency key of this guest's attempt: the runner derives every agent call's key
 * from it, so a takeover re-sends the same keys and a retry after a failure sends new ones.
 */
export interface GuestRunner {
  /** Runs only the clone step (called while holding the source's queue). */
  clone(guest: PlannedGuest, key: string, signal: AbortSignal): Promise<void>;
  /** Converges the guest (create/configure/start/features/...). */
  converge(guest: PlannedGuest, key: string, emit: (e: ApplyEvent) => void, signal: AbortSignal): Promise<{ changed: boolean }>;
  /** Removes the guest. */
  remove(guest: PlannedGuest, key: string, signal: AbortSignal): Promise<{ changed: boolean }>;
}

/** Records progress durably so another coordinator can resume; faked in unit tests. */
export interface ApplyJournal {
  /** True when this guest was already converged by this apply run (skip it). */
  isDone(guestId: string): Promise<boolean>;
  /** Claims the guest (a new attempt, or a takeover of one a deposed owner left started). */
  markStarted(guestId: string): Promise<void>;
  /** The idempotency key of the claimed attempt (after markStarted). */
  idempotencyKey(guestId: string): string;
  /** Records how the claimed attempt ended: converged, or failed with its error. */
  markDone(guestId: string, outcome: GuestOutcome): Promise<void>;
}

export interface ExecuteOptions {
  limits: ConcurrencyLimits;
  runner: GuestRunner;
  journal: ApplyJournal;
  emit?: (e: ApplyEvent) => void;
  signal?: AbortSignal;
  /**
   * Outside preconditions by gate id (PlannedGuest.gate): a guest starts once its gate resolved and
   * is blocked when it rejects or is missing.
   */
  gates?: ReadonlyMap<string, Promise<unknown>>;
}

export async function executePlan(guests: readonly PlannedGuest[], options: ExecuteOptions): Promise<GuestOutcome[]> {
  const { limits, runner, journal } = options;
  const emit = options.emit ?? (() => undefined);
  const signal = options.signal ?? new AbortController().signal;
  const chain = remainingChain(guests);
  const position = new Map(guests.map((g, i) => [g.id, i]));
  const byId = new Map(guests.map((g) => [g.id, g]));
  const outcomes = new Map<string, GuestOutcome>();
  const pending = new Set(guests.map((g) => g.id));
  const running = new Map<string, number>();
  const sourceQueues = new Map<string, Promise<void>>();
  const gateState = new Map<string, 'open' | 'failed'>();
  let pumpLater: () => void = () => undefined;
  for (const [id, gate] of options.gates ?? []) {
    void gate.then(
      () => gateState.set(id, 'open'),
      () => gateState.set(id, 'failed'),
    ).finally(() => pumpLater());
  }

  const depsState = (g: PlannedGuest): 'ready' | 'wait' | 'blocked' => {
    let wait = false;
    if (g.gate !== undefined) {
      if (!options.gates?.has(g.gate) || gateState.get(g.gate) === 'failed') return 'blocked';
      if (gateState.get(g.gate) !== 'open') wait = true;
    }
    for (const d of g.dependsOn) {
      const o = outcomes.get(d);
      if (!o) wait = true;
      else if (o.status === 'failed' || o.status === 'blocked') return 'blocked';
    }
    return wait ? 'wait' : 'ready';
  };

  /** Runs `fn` after every earlier clone of the same source has finished its clone step. */
  const inSourceQueue = (source: string, fn: () => Promise<void>): Promise<void> => {
    const prev = sourceQueues.get(source) ?? Promise.resolve();
    const next = prev.then(fn);
    sourceQueues.set(source, next.catch(() => undefined));
    return next;
  };

  const runGuest = async (g: PlannedGuest): Promise<GuestOutcome> => {
    let claimed = false;
    try {
      if (await journal.isDone(g.id)) return { id: g.id, status: 'skipped', changed: false };
      emit({ type: 'start', guest: g });
      // Claims the guest: another live coordinator owning it makes this throw, and this guest fails here.
      await journal.markStarted(g.id);
      claimed = true;
      const key = journal.idempotencyKey(g.id);
      let changed = false;
      if (g.action === 'delete') {
        changed = (await runner.remove(g, key, signal)).changed;
      } else if (g.action !== 'none' || g.steps.length > 0) {
        if (g.cloneSource && g.action === 'create') await inSourceQueue(g.cloneSource, () => runner.clone(g, key, signal));
        changed = (await runner.converge(g, key, emit, signal)).changed || g.action === 'create';
      }
      const outcome: GuestOutcome = { id: g.id, status: 'converged', changed };
      await journal.markDone(g.id, outcome);
      return outcome;
    } catch (error) {
      const outcome: GuestOutcome = { id: g.id, status: 'failed', changed: false, error };
      // A claimed attempt that failed is recorded as failed, so status shows it and a resume retries it
      // under a new key; when even that write fails (deposed, NATS down) the step stays started and
      // the next owner takes it over.
      if (claimed) await journal.markDone(g.id, outcome).catch(() => undefined);
      return outcome;
    }
  };

  await new Promise<void>((resolve) => {
    const inFlight = new Set<string>();
    const pump = (): void => {
      let progressed = true;
      while (progressed) {
        progressed = false;
        const candidates = [...pending].sort(
          (a, b) => chain.get(b)! - chain.get(a)! || position.get(a)! - position.get(b)!,
        );
        for (const id of candidates) {
          const g = byId.get(id)!;
          const state = signal.aborted ? 'blocked' : depsState(g);
          if (state === 'wait') continue;
          if (state === 'blocked') {
            pending.delete(id);
            const outcome: GuestOutcome = { id, status: 'blocked', changed: false };
            outcomes.set(id, outcome);
            emit({ type: 'done', guest: g, outcome });
            progressed = true;
            continue;
          }
          if ((running.get(g.node) ?? 0) >= limits.perNode) continue;
          pending.delete(id);
          inFlight.add(id);
          running.set(g.node, (running.get(g.node) ?? 0) + 1);
          void runGuest(g).then((outcome) => {
            inFlight.delete(id);
            running.set(g.node, running.get(g.node)! - 1);
            outcomes.set(id, outcome);
            emit({ type: 'done', guest: g, outcome });
            pump();
          });
        }
      }
      if (pending.size === 0 && inFlight.size === 0) resolve();
    };
    pumpLater = pump;
    pump();
  });

  return guests.map((g) => outcomes.get(g.id)!);
}
