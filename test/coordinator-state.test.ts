/**
 * The coordinator's state layer against a real nats-server (Debian's 2.9 in CI): typed KV with
 * compare-and-set, the apply journal, the leader lease, and VMID/IP/MAC allocation under races.
 */
import { once } from 'node:events';
import { JetStreamApiError } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  AlreadyExistsError,
  ConflictError,
  InvalidArgumentError,
  NoCapacityError,
  PermissionDeniedError,
  StaleLeaderError,
  buckets,
} from '@phoenix/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AllocationClashError,
  Allocator,
  guestRecordSchema,
  holderSchema,
  type Allocation,
  type AllocatorOptions,
} from '../coordinator/src/alloc/index.js';
import { LeaderElection, type LossReason, type Timers } from '../coordinator/src/lease/index.js';
import {
  ApplyJournal,
  CorruptValueError,
  KEEP,
  RunJournal,
  StaleFencingTokenError,
  StateStore,
  StepOwnedError,
  kvKey,
} from '../coordinator/src/state/index.js';
import { startSecuredNats, type SecuredNatsServer } from './harness/nats.js';
import { waitFor } from './harness/wait-for.js';

const LEASE_TTL_MS = 1_500;

let server: SecuredNatsServer;
const connections: NatsConnection[] = [];

async function connection(name: string): Promise<NatsConnection> {
  // The coordinator's own NATS user, as in production (the harness also defines per-node users).
  const nc = await server.connectAs('coordinator', { name });
  connections.push(nc);
  return nc;
}

async function openStore(name: string): Promise<StateStore> {
  return StateStore.open(await connection(name), { leaseTtlMs: LEASE_TTL_MS });
}

beforeAll(async () => {
  server = await startSecuredNats({ cluster: 'test', nodes: ['pve1'] });
});

afterAll(async () => {
  await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
  await server?.dispose();
});

/** The arguments of the next `name` event, or a rejection after `ms`. */
async function nextEvent<T extends unknown[]>(emitter: LeaderElection, name: 'elected' | 'lost', ms = 8_000): Promise<T> {
  return (await once(emitter, name, { signal: AbortSignal.timeout(ms) })) as T;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('state store', () => {
  const counterSchema = z.object({ n: z.number().int() });

  it('creates every bucket idempotently, with history >= 5 and the lease TTL on the leases bucket', async () => {
    const [a, b] = await Promise.all([openStore('store-a'), openStore('store-b')]);
    for (const name of Object.values(buckets)) {
      const status = await a.kv(name).status();
      expect(status.history, name).toBeGreaterThanOrEqual(5);
      expect(status.ttl, name).toBe(name === buckets.leases ? LEASE_TTL_MS : 0);
    }
    expect(b.leaseTtlMs).toBe(LEASE_TTL_MS);
    // An existing leases bucket keeps its TTL: coordinators must agree on one.
    const c = await StateStore.open(await connection('store-c'), { leaseTtlMs: 9_000 });
    expect(c.leaseTtlMs).toBe(LEASE_TTL_MS);
    expect((await c.kv(buckets.leases).status()).ttl).toBe(LEASE_TTL_MS);
    // nats-server 2.9 has no per-key TTL; it must be reported as missing, never assumed.
    expect(a.capabilities.version.text).toMatch(/^2\./);
    expect(a.capabilities.perKeyTtl).toBe(a.capabilities.version.minor >= 11);
  });

  it('brings existing buckets up to the required history and gives a TTL-less leases bucket one', async () => {
    const other = await startSecuredNats({ cluster: 'test', nodes: [] });
    try {
      const nc = await other.connectAs('coordinator');
      connections.push(nc);
      const kvm = new Kvm(nc);
      await kvm.create(buckets.specs, { history: 1 });
      await kvm.create(buckets.leases, { history: 1 });
      const store = await StateStore.open(nc, { leaseTtlMs: 4_000 });
      expect((await store.kv(buckets.specs).status()).history).toBe(5);
      const leases = await store.kv(buckets.leases).status();
      expect(leases.history).toBe(5);
      expect(leases.ttl).toBe(4_000);
      expect(store.leaseTtlMs).toBe(4_000);
      await nc.close();
    } finally {
      await other.dispose();
    }
  });

  it('update re-reads and re-applies on a compare-and-set conflict', async () => {
    const [a, b] = await Promise.all([openStore('cas-a'), openStore('cas-b')]);
    const ba = a.bucket(buckets.specs, counterSchema);
    const bb = b.bucket(buckets.specs, counterSchema);
    const key = kvKey('test', 'counter');
    await ba.create(key, { n: 0 });
    let calls = 0;
    const out = await ba.update(key, async (cur) => {
      calls++;
      // The first time, another coordinator writes between our read and our write.
      if (calls === 1) await bb.update(key, (c) => ({ n: (c?.value.n ?? 0) + 10 }));
      return { n: (cur?.value.n ?? 0) + 1 };
    });
    expect(calls).toBe(2);
    expect(out?.value.n).toBe(11);
    expect((await bb.get(key))?.value.n).toBe(11);

    // Many concurrent increments from two connections: none is lost.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? ba : bb).update(key, (c) => ({ n: (c?.value.n ?? 0) + 1 }))),
    );
    expect((await ba.get(key))?.value.n).toBe(51);
  });

  it('gives up with ConflictError (cause: JetStream 10071) when conflicts outlast the retries', async () => {
    const [a, b] = await Promise.all([openStore('exh-a'), openStore('exh-b')]);
    const ba = a.bucket(buckets.specs, counterSchema);
    const bb = b.bucket(buckets.specs, counterSchema);
    const key = kvKey('test', 'always-conflicting');
    await ba.create(key, { n: 0 });
    let calls = 0;
    const err = await rejection(
      ba.update(
        key,
        async (cur) => {
          calls++;
          await bb.update(key, (c) => ({ n: (c?.value.n ?? 0) + 1 }));
          return { n: (cur?.value.n ?? 0) + 100 };
        },
        { retries: 2 },
      ),
    );
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).code).toBe('CONFLICT');
    expect((err as ConflictError).cause).toBeInstanceOf(JetStreamApiError);
    expect(((err as ConflictError).cause as JetStreamApiError).code).toBe(10071);
    expect(calls).toBe(3);
    expect((await ba.get(key))?.value.n).toBe(3);
  });

  it('create refuses a live key, treats a deleted one as absent; replace and delete compare revisions', async () => {
    const store = await openStore('create');
    const bucket = store.bucket(buckets.placements, counterSchema);
    const key = kvKey('test', 'created');
    const first = await bucket.create(key, { n: 1 });
    expect(await rejection(bucket.create(key, { n: 2 }))).toBeInstanceOf(AlreadyExistsError);
    const got = await bucket.createOrGet(key, { n: 3 });
    expect(got).toMatchObject({ created: false, entry: { value: { n: 1 }, revision: first.revision } });
    const second = await bucket.replace(key, { n: 4 }, first.revision);
    expect(await rejection(bucket.replace(key, { n: 5 }, first.revision))).toBeInstanceOf(ConflictError);
    expect(await rejection(bucket.delete(key, { revision: first.revision }))).toBeInstanceOf(ConflictError);
    await bucket.delete(key, { revision: second.revision });
    expect(await bucket.get(key)).toBeNull();
    expect((await bucket.create(key, { n: 6 })).value.n).toBe(6);
    expect(await bucket.update(key, () => KEEP)).toMatchObject({ value: { n: 6 } });
  });

  it('refuses a node agent\'s NATS user with a typed permission error', async () => {
    const agent = await server.connectAs('pve1');
    connections.push(agent);
    const err = await rejection(StateStore.open(agent));
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect((err as PermissionDeniedError).message).toMatch(/denied on bucket phoenix_/);
  });

  it('lets a lease key expire by the bucket TTL (2.9 has no per-key TTL), after which create succeeds', async () => {
    const store = await openStore('ttl');
    const raw = store.kv(buckets.leases);
    const key = kvKey('test', 'expiring');
    const first = await raw.create(key, 'a');
    await expect(raw.create(key, 'b')).rejects.toThrow(/wrong last sequence/);
    const gone = await waitFor('expiry', async () => ((await raw.get(key)) === null ? Date.now() : undefined), LEASE_TTL_MS * 3);
    expect(gone).toBeGreaterThan(0);
    // The expired holder's stale-revision update fails; a newcomer's create wins with a higher revision.
    await expect(raw.update(key, 'a2', first)).rejects.toThrow(/wrong last sequence/);
    expect(await raw.create(key, 'b')).toBeGreaterThan(first);
  });

  it('reports a corrupt value as a typed error naming bucket and key', async () => {
    const store = await openStore('corrupt');
    const bucket = store.bucket(buckets.specs, counterSchema);
    const raw = store.kv(buckets.specs);
    await raw.put('test.not-json', '{oops');
    await raw.put('test.wrong-shape', JSON.stringify({ n: 'seven' }));
    for (const key of ['test.not-json', 'test.wrong-shape']) {
      const err = await rejection(bucket.get(key));
      expect(err).toBeInstanceOf(CorruptValueError);
      expect((err as CorruptValueError).code).toBe('INTERNAL');
      expect((err as CorruptValueError).message).toContain(buckets.specs);
      expect((err as CorruptValueError).message).toContain(key);
      expect(err).toMatchObject({ bucket: buckets.specs, key });
    }
    // Nor is a value that fails the schema ever written.
    expect(await rejection(bucket.create('test.bad-write', { n: 1.5 }))).toBeInstanceOf(InvalidArgumentError);
    expect(await raw.get('test.bad-write')).toBeNull();
  });
});

describe('apply journal', () => {
  it('of two coordinators racing to start the same steps, exactly one wins each', async () => {
    const [a, b] = await Promise.all([openStore('journal-a'), openStore('journal-b')]);
    const ja = new ApplyJournal(a);
    const jb = new ApplyJournal(b);
    const actorA = { owner: 'coord-a', fencingToken: 7 };
    const actorB = { owner: 'coord-b', fencingToken: 7 };
    await ja.startRun('run-race', actorA);
    const steps = Array.from({ length: 30 }, (_, i) => `guest-${i}:create`);
    const results = await Promise.all(
      steps.map((step) =>
        Promise.allSettled([ja.recordStepStarted('run-race', step, actorA), jb.recordStepStarted('run-race', step, actorB)]),
      ),
    );
    const winners = { a: 0, b: 0 };
    for (const [i, [ra, rb]] of results.entries()) {
      const won = [ra, rb].filter((r) => r.status === 'fulfilled');
      expect(won, steps[i]).toHaveLength(1);
      const lost = [ra, rb].find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(StepOwnedError);
      expect(lost.reason).toBeInstanceOf(ConflictError);
      const winner = ra.status === 'fulfilled' ? 'coord-a' : 'coord-b';
      expect((lost.reason as StepOwnedError).current.owner).toBe(winner);
      winners[ra.status === 'fulfilled' ? 'a' : 'b']++;
    }
    expect(winners.a + winners.b).toBe(30);
    const recorded = await jb.listSteps('run-race');
    expect(recorded).toHaveLength(30);
    expect(recorded.every((s) => s.state === 'started' && s.attempt === 1)).toBe(true);
  });

  it('lets a newer leader take over an unfinished step (one winner), fences the old one out', async () => {
    const [a, b, c] = await Promise.all([openStore('takeover-a'), openStore('takeover-b'), openStore('takeover-c')]);
    const [ja, jb, jc] = [new ApplyJournal(a), new ApplyJournal(b), new ApplyJournal(c)];
    const old = { owner: 'coord-a', fencingToken: 10 };
    await ja.startRun('run-takeover', old);
    const started = await ja.recordStepStarted('run-takeover', 'ct-950:clone', old, { detail: { node: 'pve1' } });
    const done = await ja.recordStepStarted('run-takeover', 'ct-900:snapshot', old);
    await ja.recordStepDone(done, { snapshot: 'final-form' });

    // Two successors (same newer term seen by both, e.g. a failover race) try to take over: one wins.
    const b2 = { owner: 'coord-b', fencingToken: 20 };
    const c2 = { owner: 'coord-c', fencingToken: 20 };
    await jb.resumeRun('run-takeover', b2);
    const seen = (await jb.getStep('run-takeover', 'ct-950:clone'))!;
    const race = await Promise.allSettled([
      jb.takeOverStep('run-takeover', 'ct-950:clone', b2, seen.revision),
      jc.takeOverStep('run-takeover', 'ct-950:clone', c2, seen.revision),
    ]);
    expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const winner = (race.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<typeof jb.takeOverStep>>>).value;
    // The same idempotency key: the agent returns the first call's result rather than cloning twice.
    expect(winner.record.idempotencyKey).toBe(started.record.idempotencyKey);
    expect(winner.record.takeovers).toBe(1);

    // The deposed coordinator can neither finish the step nor start new ones.
    expect(await rejection(ja.recordStepDone(started, { ok: true }))).toBeInstanceOf(StepOwnedError);
    expect(await rejection(ja.recordStepStarted('run-takeover', 'ct-951:clone', old))).toBeInstanceOf(StaleFencingTokenError);
    // A done step is never started again, by anyone.
    const again = await rejection(jb.recordStepStarted('run-takeover', 'ct-900:snapshot', b2));
    expect(again).toBeInstanceOf(StepOwnedError);
    expect((again as StepOwnedError).current.state).toBe('done');

    const winnerJournal = winner.record.owner === 'coord-b' ? jb : jc;
    const finished = await winnerJournal.recordStepDone(winner, { vmid: 950 });
    expect(finished.record).toMatchObject({ state: 'done', result: { vmid: 950 }, owner: winner.record.owner });

    // A failed step is retried only when asked, as a new attempt with a new idempotency key.
    const failing = await jb.recordStepStarted('run-takeover', 'ct-952:start', b2);
    await jb.recordStepFailed(failing, { code: 'LOCKED', message: 'CT is locked (disk)' });
    expect(await rejection(jb.recordStepStarted('run-takeover', 'ct-952:start', b2))).toBeInstanceOf(StepOwnedError);
    const retry = await jb.recordStepStarted('run-takeover', 'ct-952:start', b2, { retryFailed: true });
    expect(retry.record.attempt).toBe(2);
    expect(retry.record.idempotencyKey).not.toBe(failing.record.idempotencyKey);
    expect(retry.record.error).toBeUndefined();

    await jb.finishRun('run-takeover', b2, 'succeeded');
    expect((await jc.getRun('run-takeover'))?.state).toBe('succeeded');
    await jb.deleteRun('run-takeover');
    expect(await jc.getRun('run-takeover')).toBeNull();
    expect(await jc.listSteps('run-takeover')).toEqual([]);
  });
});

describe('run journal (per guest, as the plan executor uses it)', () => {
  it('a successor resumes a run: done guests are skipped, a started one is taken over with the same key', async () => {
    const [a, b] = await Promise.all([openStore('runj-a'), openStore('runj-b')]);
    const oldLeader = { owner: 'coord-a', fencingToken: 30 };
    const newLeader = { owner: 'coord-b', fencingToken: 41 };
    await new ApplyJournal(a).startRun('run-resume', oldLeader);
    const ra = new RunJournal(new ApplyJournal(a), 'run-resume', oldLeader);
    await ra.markStarted('step-ca');
    await ra.markDone('step-ca', { status: 'converged', changed: true });
    await ra.markStarted('nginx');
    const key = ra.idempotencyKey('nginx');
    // coord-a dies here, mid-guest. coord-b wins the lease and resumes the run.
    const jb = new ApplyJournal(b);
    await jb.resumeRun('run-resume', newLeader);
    const rb = new RunJournal(jb, 'run-resume', newLeader);
    expect(await rb.isDone('step-ca')).toBe(true);
    expect(await rb.isDone('nginx')).toBe(false);
    await rb.markStarted('nginx');
    expect(rb.idempotencyKey('nginx')).toBe(key);
    await rb.markDone('nginx', { status: 'converged', changed: false });
    expect(await ra.isDone('nginx')).toBe(true);
    // Had coord-a come back, it could not record anything for the guest any more.
    expect(await rejection(ra.markDone('nginx', { status: 'converged', changed: true }))).toBeInstanceOf(StepOwnedError);
    // A failure is recorded with its code; starting the guest again is a new attempt with a new key.
    await rb.markStarted('traefik');
    const firstKey = rb.idempotencyKey('traefik');
    await rb.markDone('traefik', { status: 'failed', changed: false, error: new ConflictError('lost a race') });
    expect((await jb.getStep('run-resume', 'traefik'))?.value).toMatchObject({ state: 'failed', error: { code: 'CONFLICT' } });
    await rb.markStarted('traefik');
    expect(rb.idempotencyKey('traefik')).not.toBe(firstKey);
    // The old leader cannot even start guests in this run any more.
    expect(await rejection(ra.markStarted('portainer'))).toBeInstanceOf(StaleLeaderError);
  });
});

/** Timers a test can hold back, as when a process is paused (SIGSTOP, a long GC). */
class PausableTimers implements Timers {
  #paused = false;
  #held: Array<{ due: number; fn: () => void; cancelled: boolean }> = [];
  now(): number {
    return performance.now();
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const entry = { due: this.now() + ms, fn, cancelled: false, timer: undefined as NodeJS.Timeout | undefined };
    entry.timer = setTimeout(() => {
      if (entry.cancelled) return;
      if (this.#paused) this.#held.push(entry);
      else fn();
    }, ms);
    return entry;
  }
  clearTimeout(handle: unknown): void {
    const entry = handle as { cancelled: boolean; timer?: NodeJS.Timeout };
    entry.cancelled = true;
    clearTimeout(entry.timer);
  }
  pause(): void {
    this.#paused = true;
  }
  resume(): void {
    this.#paused = false;
    const due = this.#held.sort((x, y) => x.due - y.due);
    this.#held = [];
    for (const e of due) if (!e.cancelled) e.fn();
  }
}

describe('leader election', () => {
  const elections: LeaderElection[] = [];
  const storeOf = new Map<LeaderElection, StateStore>();
  afterAll(async () => {
    await Promise.all(elections.map((e) => e.stop().catch(() => undefined)));
  });

  async function contenders(
    key: string,
    n: number,
    options: { timers?: Timers[]; announceAfterRenewal?: boolean } = {},
  ): Promise<LeaderElection[]> {
    const out: LeaderElection[] = [];
    for (let i = 0; i < n; i++) {
      const store = await openStore(`${key}-${i}`);
      const t = options.timers?.[i];
      const e = new LeaderElection(store, {
        id: `${key}-${i}`,
        key: kvKey('lease', key),
        ...(t ? { timers: t } : {}),
        ...(options.announceAfterRenewal === undefined ? {} : { announceAfterRenewal: options.announceAfterRenewal }),
      });
      storeOf.set(e, store);
      elections.push(e);
      out.push(e);
    }
    return out;
  }

  function leaders(es: readonly LeaderElection[]): LeaderElection[] {
    return es.filter((e) => e.isLeader());
  }

  it('elects exactly one of three contenders, and the lease names it with its fencing token', async () => {
    const es = await contenders('three', 3);
    const elected = es.map((e) => nextEvent<[number]>(e, 'elected'));
    await Promise.all(es.map((e) => e.start()));
    const [token] = await Promise.race(elected);
    const leader = await waitFor('one leader', () => (leaders(es).length === 1 ? leaders(es)[0] : undefined));
    // Hold for more than a TTL: the leader keeps renewing and nobody else gets in.
    await new Promise((r) => setTimeout(r, LEASE_TTL_MS * 1.3));
    expect(leaders(es)).toEqual([leader]);
    expect(leader.currentToken()).toBe(token);
    expect(leader.stats.renewals).toBeGreaterThanOrEqual(2);
    for (const other of es.filter((e) => e !== leader)) {
      expect(other.currentToken()).toBeUndefined();
      expect(() => other.requireToken()).toThrow(/not the leader/);
      expect(other.stats.terms).toBe(0);
      expect(other.stats.campaigns).toBeGreaterThanOrEqual(2);
    }
    const lease = await es[0]!.leader();
    expect(lease).toMatchObject({ holder: leader.id, fencingToken: token });
  });

  it('after the leader is killed, another is elected once the TTL has passed, with a higher token', async () => {
    const es = await contenders('killed', 3);
    await Promise.all(es.map((e) => e.start()));
    const first = await waitFor('a leader', () => leaders(es)[0]);
    const firstToken = first.requireToken();
    const rest = es.filter((e) => e !== first);
    const next = Promise.race(rest.map((e) => nextEvent<[number]>(e, 'elected').then(([t]) => ({ e, token: t }))));
    // Kill: no resignation, the process's connection just goes away.
    const killedAt = Date.now();
    await first.stop({ resign: false });
    await storeOf.get(first)!.nc.close();
    const { e: second, token: secondToken } = await next;
    const took = Date.now() - killedAt;
    expect(took).toBeGreaterThanOrEqual(LEASE_TTL_MS * 0.6);
    expect(secondToken).toBeGreaterThan(firstToken);
    expect(second.isLeader()).toBe(true);
    expect(leaders(rest)).toEqual([second]);
  });

  it('a paused leader is deposed: on resume it is no longer leader, its renewal fails, it steps down', async () => {
    const timers = [new PausableTimers(), new PausableTimers()];
    const es = await contenders('paused', 2, { timers });
    await es[0]!.start();
    await waitFor('first leader', () => (es[0]!.isLeader() ? true : undefined));
    await es[1]!.start();
    const oldToken = es[0]!.requireToken();
    const lost = nextEvent<[LossReason]>(es[0]!, 'lost');

    timers[0]!.pause();
    const [newToken] = await nextEvent<[number]>(es[1]!, 'elected');
    expect(newToken).toBeGreaterThan(oldToken);
    // Still paused: by its own clock the lease has lapsed, so it no longer claims to lead.
    expect(es[0]!.isLeader()).toBe(false);
    expect(es[0]!.currentToken()).toBeUndefined();
    const leaseBefore = await es[1]!.leader();

    timers[0]!.resume();
    const [reason] = await lost;
    expect(['late', 'conflict']).toContain(reason);
    await waitFor('failed renewal counted', () => (es[0]!.stats.renewalFailures >= 1 ? true : undefined));
    expect(es[0]!.state).toBe('candidate');
    expect(es[1]!.isLeader()).toBe(true);
    // The deposed leader wrote nothing over its successor's lease.
    const leaseAfter = await es[1]!.leader();
    expect(leaseAfter?.holder).toBe(es[1]!.id);
    expect(leaseAfter?.fencingToken).toBe(newToken);
    expect(leaseAfter!.revision).toBeGreaterThanOrEqual(leaseBefore!.revision);
  });

  it('steps down as soon as a renewal fails because someone else holds the lease', async () => {
    const [e] = await contenders('conflict', 1);
    await e!.start();
    const token = await waitFor('leader', () => e!.currentToken());
    const store = await openStore('conflict-intruder');
    const raw = store.kv(buckets.leases);
    const lost = nextEvent<[LossReason]>(e!, 'lost');
    // An operator (or a successor after a partition) replaces the lease under the leader.
    await raw.purge(kvKey('lease', 'conflict'));
    await raw.create(
      kvKey('lease', 'conflict'),
      JSON.stringify({ holder: 'intruder', ttlMs: LEASE_TTL_MS, acquiredAt: '', renewedAt: '' }),
    );
    const started = Date.now();
    const [reason] = await lost;
    expect(reason).toBe('conflict');
    expect(Date.now() - started).toBeLessThan(LEASE_TTL_MS * 2);
    expect(e!.isLeader()).toBe(false);
    expect(e!.stats.renewalFailures).toBe(1);
    expect(token).toBeGreaterThan(0);
  });

  it('fencing tokens strictly increase across terms', async () => {
    // Announcing right after the create keeps this test short; the ordering property is the same.
    const es = await contenders('terms', 2, { announceAfterRenewal: false });
    const tokens: number[] = [];
    for (const e of es) e.on('elected', (t) => tokens.push(t));
    await Promise.all(es.map((e) => e.start()));
    for (let term = 0; term < 4; term++) {
      const leader = await waitFor(`leader of term ${term}`, () => leaders(es)[0]);
      // Resigning deletes the lease, so the other contender need not wait out the TTL.
      await leader.stop();
      await leader.start();
      await waitFor(`term ${term + 1}`, () => (tokens.length > term + 1 ? true : undefined));
    }
    expect(tokens.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]!).toBeGreaterThan(tokens[i - 1]!);
    const stats = es.map((e) => e.stats);
    expect(stats.reduce((n, s) => n + s.terms, 0)).toBeGreaterThanOrEqual(tokens.length);
  });
});

describe('allocation', () => {
  // Each test gets its own network name: addresses are unique per network, and the server is shared.
  const lanNamed = (name: string) => ({
    name,
    cidr: '10.20.0.0/22',
    gateway: '10.20.0.1',
    exclude: ['10.20.0.13', '10.20.1.0-10.20.1.9'],
    pools: [{ name: 'guests', range: '10.20.0.2-10.20.3.254' }],
  });

  async function allocators(n: number, options: AllocatorOptions): Promise<Allocator[]> {
    return Promise.all(Array.from({ length: n }, async (_, i) => new Allocator(await openStore(`alloc-${i}`), options)));
  }

  function assertUnique(allocs: readonly Allocation[]): void {
    const vmids = allocs.map((a) => a.vmid);
    const ips = allocs.flatMap((a) => a.nics.map((n) => `${n.network}/${n.address}`));
    const macs = allocs.flatMap((a) => a.nics.map((n) => n.mac));
    expect(new Set(vmids).size).toBe(vmids.length);
    expect(new Set(ips).size).toBe(ips.length);
    expect(new Set(macs).size).toBe(macs.length);
  }

  it('eight allocators racing for 400 guests from the same pools hand out no value twice', async () => {
    const team = await allocators(8, { networks: [lanNamed('lan')], vmidRange: { first: 1000 } });
    const observed = [1000, 1001, 1005];
    const shared = Array.from({ length: 16 }, (_, i) => `shared-${i}`);
    const started = Date.now();
    const results = await Promise.all(
      team.map(async (alloc, t) => {
        const mine: Allocation[] = [];
        const sharedResults: Allocation[] = [];
        for (let g = 0; g < 50; g++) {
          mine.push(
            await alloc.allocate(
              { guestId: `race-${t}-${g}`, nics: [{ id: 'net0', network: 'lan', pool: 'guests' }] },
              { observedVmids: observed },
            ),
          );
          // Every allocator also allocates the shared guests: all must agree on their values.
          if (g % 3 === 0 && shared[g / 3] !== undefined) {
            sharedResults.push(
              await alloc.allocate({ guestId: shared[g / 3]!, nics: [{ id: 'net0', network: 'lan' }] }, { observedVmids: observed }),
            );
          }
        }
        return { mine, sharedResults };
      }),
    );
    const elapsed = Date.now() - started;
    const all = results.flatMap((r) => r.mine);
    const sharedByGuest = new Map<string, Allocation[]>();
    for (const a of results.flatMap((r) => r.sharedResults)) sharedByGuest.set(a.guestId, [...(sharedByGuest.get(a.guestId) ?? []), a]);
    expect(sharedByGuest.size).toBe(shared.length);
    for (const [guest, list] of sharedByGuest) {
      expect(list, guest).toHaveLength(8);
      for (const a of list) expect(a, guest).toEqual(list[0]);
    }
    const everyone = [...all, ...[...sharedByGuest.values()].map((l) => l[0]!)];
    expect(everyone).toHaveLength(416);
    assertUnique(everyone);
    for (const a of everyone) {
      expect(observed).not.toContain(a.vmid);
      expect(a.vmid).toBeGreaterThanOrEqual(1000);
      const nic = a.nics[0]!;
      expect(nic.address).not.toBe('10.20.0.1');
      expect(nic.address).not.toBe('10.20.0.13');
      expect(nic.address).not.toMatch(/^10\.20\.1\.\d$/);
      expect(nic).toMatchObject({ network: 'lan', prefix: 22, gateway: '10.20.0.1' });
      expect(nic.mac).toMatch(/^02:50:48(:[0-9A-F]{2}){3}$/);
    }
    // Nothing leaked: exactly one key per handed-out value, and the guests' records agree.
    const holders = team[0]!;
    const listed = await holders.list();
    expect(listed).toHaveLength(416);
    const store = await openStore('alloc-audit');
    const kv = store.kv(buckets.alloc);
    const count = async (filter: string): Promise<number> => {
      let n = 0;
      for await (const _ of await kv.keys(filter)) n++;
      return n;
    };
    expect(await count('vmid.>')).toBe(416);
    expect(await count('ip.>')).toBe(416);
    expect(await count('mac.>')).toBe(416);
    expect(await holders.sweep()).toEqual([]);
    // They really raced: claims found values another allocator had just taken.
    const stats = team.map((t) => t.stats);
    expect(stats.reduce((n, st) => n + st.collisions, 0)).toBeGreaterThan(0);
    // About 3 s here; the bound only catches starvation (allocators queueing behind one another).
    expect(elapsed).toBeLessThan(20_000);

    // Releasing frees all three values; the keys are gone.
    for (const a of all.slice(0, 20)) expect(await team[1]!.release(a.guestId)).toBe(true);
    expect(await count('vmid.>')).toBe(396);
    expect(await team[2]!.get(all[0]!.guestId)).toBeNull();
    expect(await team[2]!.release(all[0]!.guestId)).toBe(false);
  }, 40_000);

  it('released values are handed out again, also by another allocator with stale hints', async () => {
    const tiny = { name: 'tiny', cidr: '10.30.0.0/29', gateway: '10.30.0.1' }; // hosts .2–.6: five
    const options: AllocatorOptions = { networks: [tiny], vmidRange: { first: 5000, last: 5004 } };
    const [a, b] = await allocators(2, options);
    const got: Allocation[] = [];
    for (let i = 0; i < 5; i++) got.push(await a!.allocate({ guestId: `tiny-${i}`, nics: [{ id: 'net0', network: 'tiny' }] }));
    assertUnique(got);
    expect(got.map((g) => g.vmid).sort()).toEqual([5000, 5001, 5002, 5003, 5004]);
    expect(await rejection(b!.allocate({ guestId: 'tiny-extra', nics: [{ id: 'net0', network: 'tiny' }] }))).toBeInstanceOf(
      NoCapacityError,
    );
    // b has now seen everything taken; a frees one and b must find it.
    await a!.release('tiny-2');
    const again = await b!.allocate({ guestId: 'tiny-extra', nics: [{ id: 'net0', network: 'tiny' }] });
    expect(again.vmid).toBe(got[2]!.vmid);
    expect(again.nics[0]!.address).toBe(got[2]!.nics[0]!.address);
    // The same guest and NIC derive the same MAC; a different guest gets its own.
    await b!.release('tiny-extra');
    const back = await a!.allocate({ guestId: 'tiny-2', nics: [{ id: 'net0', network: 'tiny' }] });
    expect(back.nics[0]!.mac).toBe(got[2]!.nics[0]!.mac);
  });

  it('honours static values, rejects clashes naming both guests, and is idempotent', async () => {
    const [a, b] = await allocators(2, { networks: [lanNamed('office')], vmidRange: { first: 2000 } });
    const nginx = await a!.allocate({
      guestId: 'nginx-phoenix',
      vmid: 953,
      nics: [{ id: 'eth0', network: 'office', ip: '10.20.0.153/22', mac: '52:54:00:aa:bb:cc' }],
    });
    expect(nginx).toEqual({
      guestId: 'nginx-phoenix',
      vmid: 953,
      nics: [{ id: 'eth0', mac: '52:54:00:AA:BB:CC', network: 'office', address: '10.20.0.153', prefix: 22, gateway: '10.20.0.1' }],
    });
    // Idempotent, from either allocator.
    expect(await b!.allocate({ guestId: 'nginx-phoenix', vmid: 953, nics: [{ id: 'eth0', network: 'office', ip: '10.20.0.153', mac: '52:54:00:AA:BB:CC' }] })).toEqual(nginx);

    const vmidClash = await rejection(b!.allocate({ guestId: 'step-ca', vmid: 953 }));
    expect(vmidClash).toBeInstanceOf(AllocationClashError);
    expect((vmidClash as Error).message).toMatch(/VMID 953 .*step-ca.*nginx-phoenix/);
    const ipClash = await rejection(b!.allocate({ guestId: 'traefik', nics: [{ id: 'eth0', ip: '10.20.0.153' }] }));
    expect(ipClash).toBeInstanceOf(AllocationClashError);
    expect((ipClash as Error).message).toMatch(/10\.20\.0\.153 in network office requested by guest traefik .*nginx-phoenix/);
    expect(ipClash).toMatchObject({ kind: 'ip', guestId: 'traefik', heldBy: 'nginx-phoenix' });
    const macClash = await rejection(b!.allocate({ guestId: 'portainer', nics: [{ id: 'net0', mac: '52:54:00:AA:BB:CC' }] }));
    expect(macClash).toMatchObject({ kind: 'mac', heldBy: 'nginx-phoenix' });
    // The clashing guests hold nothing they did not ask for once released.
    for (const g of ['step-ca', 'traefik', 'portainer']) await b!.release(g);

    // Gateway, network, broadcast and excluded addresses are refused outright.
    for (const ip of ['10.20.0.1', '10.20.0.0', '10.20.3.255', '10.20.0.13', '10.20.1.5', '10.21.0.5']) {
      expect(await rejection(a!.allocate({ guestId: 'bad', nics: [{ id: 'eth0', network: 'office', ip }] })), ip).toBeInstanceOf(
        InvalidArgumentError,
      );
    }
    // A statically held address inside the pool is skipped by automatic allocation.
    await a!.allocate({ guestId: 'static-low', nics: [{ id: 'eth0', network: 'office', ip: '10.20.0.250' }] });
    const autos: Allocation[] = [];
    for (let i = 0; i < 3; i++) autos.push(await b!.allocate({ guestId: `auto-${i}`, nics: [{ id: 'eth0', network: 'office' }] }));
    expect(autos.map((x) => x.nics[0]!.address)).not.toContain('10.20.0.250');
    expect(autos.map((x) => x.vmid)).not.toContain(953);

    // Changing a guest's static address moves it and frees the old one.
    const moved = await a!.allocate({ guestId: 'nginx-phoenix', vmid: 953, nics: [{ id: 'eth0', network: 'office', ip: '10.20.0.154' }] });
    expect(moved.nics[0]).toMatchObject({ address: '10.20.0.154', mac: '52:54:00:AA:BB:CC' });
    const taker = await b!.allocate({ guestId: 'takes-153', nics: [{ id: 'eth0', network: 'office', ip: '10.20.0.153' }] });
    expect(taker.nics[0]!.address).toBe('10.20.0.153');
  });

  it('finishes what a coordinator that died mid-allocation left behind, and sweeps orphans', async () => {
    const net = { name: 'crash', cidr: '10.40.0.0/24', gateway: '10.40.0.1' };
    const store = await openStore('crash');
    const records = store.bucket(buckets.alloc, guestRecordSchema);
    const holders = store.bucket(buckets.alloc, holderSchema);
    const at = new Date().toISOString();
    // The dead coordinator had recorded two claims and created one of them (VMID 7000); the
    // address it meant to claim was taken by another guest before it could.
    await holders.create('vmid.7000', { guestId: 'half-done', slot: 'vmid', at });
    await holders.create('ip.crash.10-40-0-2', { guestId: 'someone-else', slot: 'ip/net0', at });
    await records.create('guest.someone-else', {
      guestId: 'someone-else',
      slots: { 'ip/net0': { kind: 'ip', key: 'ip.crash.10-40-0-2', value: '10.40.0.2', network: 'crash' } },
      pending: [],
      updatedAt: at,
    });
    await records.create('guest.half-done', {
      guestId: 'half-done',
      slots: {},
      pending: [
        { slot: 'vmid', state: 'claiming', kind: 'vmid', key: 'vmid.7000', value: '7000' },
        { slot: 'ip/net0', state: 'claiming', kind: 'ip', key: 'ip.crash.10-40-0-2', value: '10.40.0.2', network: 'crash' },
      ],
      updatedAt: at,
    });
    // And a value key nobody's record lists (its claim was dropped by a concurrent allocator).
    await holders.create('vmid.7001', { guestId: 'half-done', slot: 'vmid', at });

    const alloc = new Allocator(store, { networks: [net], vmidRange: { first: 7100 } });
    const done = await alloc.allocate({ guestId: 'half-done', nics: [{ id: 'net0', network: 'crash' }] });
    expect(done.vmid).toBe(7000);
    expect(done.nics[0]!.address).toBe('10.40.0.3');
    expect((await holders.get('ip.crash.10-40-0-2'))?.value.guestId).toBe('someone-else');
    const rec = (await records.get('guest.half-done'))!.value;
    expect(rec.pending).toEqual([]);

    expect(await alloc.sweep()).toEqual(['vmid.7001']);
    expect(await holders.get('vmid.7001')).toBeNull();
    expect(await holders.get('vmid.7000')).not.toBeNull();
    expect(await alloc.sweep()).toEqual([]);
  });
});
