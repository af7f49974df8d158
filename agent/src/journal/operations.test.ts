import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import {
  agentv1,
  BusyError,
  CancelledError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  StaleLeaderError,
  UnavailableError,
  LockedError,
} from '@phoenix/shared';
import { FencingGuard } from './fencing.js';
import { LockTable } from './locks.js';
import { OperationManager, ShutdownCancelledError, type OperationHandle, type OperationSpec } from './operations.js';
import { OperationJournal } from './store.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'agent-journal-'));
  dirs.push(dir);
  return dir;
}

type Res = { result: agentv1.OperationResult | undefined };
const codec = { toJSON: (r: Res) => agentv1.CreateGuestResponse.toJSON(r), fromJSON: (j: unknown) => agentv1.CreateGuestResponse.fromJSON(j) };

/** Counts lock requests: a request made while the key is held is queued before `acquire` returns. */
class WatchedLocks extends LockTable {
  requests = 0;
  override acquire(...args: Parameters<LockTable['acquire']>): ReturnType<LockTable['acquire']> {
    this.requests++;
    return super.acquire(...args);
  }
}

async function setup(options: { lockWaitMs?: number; dir?: string } = {}) {
  const dir = options.dir ?? (await tempDir());
  const journal = await OperationJournal.open(dir, log);
  const fencing = await FencingGuard.open(dir);
  let admitting = true;
  const outcomes: string[] = [];
  const locks = new WatchedLocks();
  const manager = new OperationManager({
    journal,
    fencing,
    locks,
    log,
    lockWaitMs: options.lockWaitMs ?? 1_000,
    admit: () => {
      if (!admitting) throw new UnavailableError('draining');
    },
    observer: { finished: (kind, outcome) => outcomes.push(`${kind}:${outcome}`) },
  });
  return { dir, journal, fencing, locks, manager, outcomes, stopAdmitting: () => (admitting = false) };
}

function spec(key: string, work: (op: OperationHandle) => Promise<{ changed: boolean }>, extra: Partial<OperationSpec<Res>> = {}): OperationSpec<Res> {
  return {
    kind: 'CreateGuest',
    context: { idempotencyKey: key, fencingToken: 0, requester: 'test' },
    vmid: 101,
    lockKeys: ['guest:101'],
    request: { spec: { vmid: 101 } },
    caller: 'coordinator/c1',
    responseCodec: codec,
    work: async (op) => {
      const r = await work(op);
      return { result: { changed: r.changed, changedSteps: r.changed ? ['create'] : [] }, respond: (result) => ({ result }) };
    },
    ...extra,
  };
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const never = new AbortController().signal;

describe('operations - idempotency', () => {
  it('runs a key once and replays the recorded result for a retry', async () => {
    const { manager, outcomes } = await setup();
    let runs = 0;
    const s = spec('k1', async () => (runs++, { changed: true }));
    const first = await manager.runUnary(s, never);
    const second = await manager.runUnary(s, never);
    expect(runs).toBe(1);
    expect(first.result?.ok).toBe(true);
    expect(second).toEqual(first);
    expect(outcomes).toEqual(['CreateGuest:succeeded', 'CreateGuest:replayed']);
  });

  it('replays from disk after a restart', async () => {
    const a = await setup();
    await a.manager.runUnary(spec('k1', async () => ({ changed: true })), never);
    const b = await setup({ dir: a.dir });
    let ran = false;
    const replay = await b.manager.runUnary(spec('k1', async () => ((ran = true), { changed: false })), never);
    expect(ran).toBe(false);
    expect(replay.result).toMatchObject({ ok: true, changed: true, changedSteps: ['create'] });
  });

  it('replays a permanent failure as the same typed error, and runs a retryable one again', async () => {
    const { manager } = await setup();
    const failing = spec('k-perm', async () => {
      throw new NotFoundError('template missing');
    });
    await expect(manager.runUnary(failing, never)).rejects.toBeInstanceOf(NotFoundError);
    await expect(manager.runUnary(failing, never)).rejects.toThrow(/template missing/);

    let attempts = 0;
    const flaky = spec('k-retry', async () => {
      if (++attempts === 1) throw new LockedError('CT is locked (create)');
      return { changed: true };
    });
    await expect(manager.runUnary(flaky, never)).rejects.toBeInstanceOf(LockedError);
    await expect(manager.runUnary(flaky, never)).resolves.toMatchObject({ result: { ok: true } });
    expect(attempts).toBe(2);
  });

  it('refuses a key reused for a different request, and a missing key', async () => {
    const { manager } = await setup();
    await manager.runUnary(spec('k1', async () => ({ changed: true })), never);
    await expect(
      manager.runUnary(spec('k1', async () => ({ changed: true }), { request: { spec: { vmid: 102 } } }), never),
    ).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(manager.runUnary(spec('', async () => ({ changed: true })), never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('attaches a retry of a running key: one run, both callers see every event', async () => {
    const { manager } = await setup();
    const gate = deferred();
    const started = deferred();
    let runs = 0;
    const s = spec('k1', async (op) => {
      runs++;
      op.step({ step: 'create', state: agentv1.StepState.STARTED });
      started.resolve();
      await gate.promise;
      op.log({ step: 'create', line: 'extracting' });
      return { changed: true };
    });
    const seenA: agentv1.OperationEvent[] = [];
    const seenB: agentv1.OperationEvent[] = [];
    const a = manager.runStream(s, never, async (e) => void seenA.push(e));
    await started.promise;
    const b = manager.runStream(s, never, async (e) => void seenB.push(e));
    // Nothing but the step can happen before the gate opens: wait for B to be handed it.
    await vi.waitFor(() => expect(seenB.map((e) => e.kind?.$case)).toEqual(['step']));
    gate.resolve();
    await Promise.all([a, b]);
    expect(runs).toBe(1);
    expect(seenA.map((e) => e.kind?.$case)).toEqual(['step', 'log', 'result']);
    expect(seenB).toEqual(seenA);
    expect(seenA.map((e) => e.seq)).toEqual([1, 2, 3]);
  });
});

describe('operations - locks, fencing, drain', () => {
  it('makes a second operation on a busy guest wait, then refuses it as BUSY naming the holder', async () => {
    const { manager } = await setup({ lockWaitMs: 100 });
    const gate = deferred();
    const holding = deferred();
    const first = manager.runUnary(spec('k1', async () => (holding.resolve(), await gate.promise, { changed: true })), never);
    await holding.promise;
    const started = Date.now();
    const err = await manager.runUnary(spec('k2', async () => ({ changed: true }), { kind: 'StartGuest' }), never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusyError);
    expect((err as BusyError).message).toMatch(/guest:101 is busy with operation .* \(CreateGuest\)/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    gate.resolve();
    await first;
  });

  it('lets the waiting operation run once the lock is released within the bound', async () => {
    const { manager, locks } = await setup({ lockWaitMs: 10_000 });
    const order: string[] = [];
    const gate = deferred();
    const holding = deferred();
    const a = manager.runUnary(spec('k1', async () => (holding.resolve(), await gate.promise, order.push('a'), { changed: true })), never);
    await holding.promise;
    const b = manager.runUnary(spec('k2', async () => (order.push('b'), { changed: true }), { request: { other: 1 } }), never);
    // B asked for the lock A holds, so it is queued: release it now.
    await vi.waitFor(() => expect(locks.requests).toBe(2));
    gate.resolve();
    await Promise.all([a, b]);
    expect(order).toEqual(['a', 'b']);
  });

  it('refuses a stale fencing token, also after a restart, and accepts token 0', async () => {
    const a = await setup();
    const fenced = (key: string, token: number) =>
      spec(key, async () => ({ changed: true }), { context: { idempotencyKey: key, fencingToken: token, requester: '' } });
    await a.manager.runUnary(fenced('k1', 7), never);
    await expect(a.manager.runUnary(fenced('k2', 6), never)).rejects.toBeInstanceOf(StaleLeaderError);
    const b = await setup({ dir: a.dir });
    expect(b.fencing.highestSeen).toBe(7);
    await expect(b.manager.runUnary(fenced('k3', 5), never)).rejects.toThrow(/fencing token 5 is older than 7/);
    await expect(b.manager.runUnary(fenced('k4', 0), never)).resolves.toMatchObject({ result: { ok: true } });
    await expect(b.manager.runUnary(fenced('k5', 8), never)).resolves.toMatchObject({ result: { ok: true } });
    expect(JSON.parse(await readFile(join(a.dir, 'fencing.json'), 'utf8'))).toEqual({ highest: 8 });
  });

  it('refuses new operations when not admitting, but still replays finished keys', async () => {
    const { manager, stopAdmitting, outcomes } = await setup();
    await manager.runUnary(spec('k1', async () => ({ changed: true })), never);
    stopAdmitting();
    await expect(manager.runUnary(spec('k1', async () => ({ changed: true })), never)).resolves.toMatchObject({ result: { ok: true } });
    await expect(manager.runUnary(spec('k2', async () => ({ changed: true }), { request: 2 }), never)).rejects.toBeInstanceOf(UnavailableError);
    expect(outcomes).toEqual(['CreateGuest:succeeded', 'CreateGuest:replayed', 'CreateGuest:rejected']);
  });

  it('cancels the work when its only caller goes away, passing the abort to the work', async () => {
    const { manager, journal } = await setup();
    const caller = new AbortController();
    let workSignal: AbortSignal | undefined;
    const working = deferred();
    const run = manager.runUnary(
      spec('k1', async (op) => {
        workSignal = op.signal;
        working.resolve();
        await new Promise((_r, reject) => op.signal.addEventListener('abort', () => reject(new Error('child killed'))));
        return { changed: true };
      }),
      caller.signal,
    );
    await working.promise;
    caller.abort(new CancelledError('client went away'));
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    await manager.idle();
    expect(workSignal?.aborted).toBe(true);
    expect(journal.get('k1')).toMatchObject({ phase: 'failed', result: { errorCode: 'CANCELLED' } });
  });

  it('keeps running while one of two attached callers remains', async () => {
    const { manager } = await setup();
    const gate = deferred();
    const first = new AbortController();
    const working = deferred();
    const s = spec('k1', async () => (working.resolve(), await gate.promise, { changed: true }));
    const a = manager.runUnary(s, first.signal).catch((e: unknown) => e);
    const b = manager.runUnary(s, never);
    await working.promise;
    first.abort(new CancelledError('gone'));
    gate.resolve();
    await expect(b).resolves.toMatchObject({ result: { ok: true } });
    expect(await a).toBeInstanceOf(CancelledError);
  });

  it('records operations cancelled at shutdown as interrupted, and a retry runs them again', async () => {
    const a = await setup();
    const working = deferred();
    const run = a.manager.runUnary(
      spec('k1', async (op) => {
        working.resolve();
        // As the drivers do: the killed tool surfaces as their own CancelledError, not the abort reason.
        await new Promise((_r, reject) => op.signal.addEventListener('abort', () => reject(new CancelledError('pct create: cancelled'))));
        return { changed: true };
      }),
      never,
    );
    await working.promise;
    a.manager.abortAll(new ShutdownCancelledError('shutting down'));
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(a.journal.get('k1')).toMatchObject({ phase: 'interrupted', needsRecovery: true });
    expect(a.outcomes).toEqual(['CreateGuest:interrupted']);

    const b = await setup({ dir: a.dir });
    expect(b.journal.needingRecovery().map((r) => r.key)).toEqual(['k1']);
    const again = await b.manager.runUnary(spec('k1', async () => ({ changed: true })), never);
    expect(again.result?.ok).toBe(true);
    expect(b.journal.get('k1')).toMatchObject({ phase: 'succeeded', attempt: 2 });
    expect((await readdir(join(a.dir, 'operations'))).filter((f) => f.endsWith('.json'))).toHaveLength(1);
  });
});

describe('journal - crash recovery', () => {
  it('marks records left running by a dead agent as interrupted at open', async () => {
    const dir = await tempDir();
    const first = await OperationJournal.open(dir, log);
    await first.put({
      version: 1,
      id: 'op-1',
      key: 'k1',
      kind: 'CloneGuest',
      vmid: 120,
      phase: 'running',
      requester: 'r',
      caller: 'coordinator/c',
      fencingToken: 0,
      requestDigest: 'd',
      attempt: 1,
      startedAt: new Date().toISOString(),
    });
    await writeFile(join(dir, 'operations', '.op-2.json.1234.tmp'), '{"torn');
    const second = await OperationJournal.open(dir, log);
    expect(second.get('k1')).toMatchObject({ phase: 'interrupted', needsRecovery: true, result: { errorCode: 'INTERRUPTED' } });
    expect(second.list({ onlyUnfinished: true }).map((r) => r.id)).toEqual(['op-1']);
    expect(await readdir(join(dir, 'operations'))).toEqual(['op-1.json']);
    const onDisk = JSON.parse(await readFile(join(dir, 'operations', 'op-1.json'), 'utf8')) as { phase: string };
    expect(onDisk.phase).toBe('interrupted');
  });

  it('prunes finished records past the retention, never unfinished ones', async () => {
    const { manager, journal } = await setup();
    await manager.runUnary(spec('old', async () => ({ changed: true })), never);
    expect(await journal.prune(60_000, Date.now() + 120_000)).toBe(1);
    expect(journal.get('old')).toBeUndefined();
  });
});
