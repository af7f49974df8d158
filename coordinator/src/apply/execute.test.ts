import { describe, expect, it } from 'vitest';
import { executePlan, type ApplyJournal, type GuestOutcome, type GuestRunner } from './execute.js';
import type { PlannedGuest } from '../plan/types.js';

const g = (id: string, node: string, deps: string[] = [], cloneSource?: string): PlannedGuest => ({
  id,
  vmid: 100,
  node,
  action: 'create',
  dependsOn: deps,
  steps: [{ name: 'ensure_exists', reason: 'missing', estSeconds: 1 }],
  ...(cloneSource ? { cloneSource } : {}),
});

/** Simulated work inside the fake runner. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The run journal's rules in memory: attempts, a new attempt after a recorded failure. */
function memoryJournal(done: string[] = []) {
  const steps = new Map<string, { state: 'started' | 'done' | 'failed'; attempt: number; error?: string }>(
    done.map((id) => [id, { state: 'done', attempt: 1 }]),
  );
  const journal: ApplyJournal = {
    isDone: async (id) => steps.get(id)?.state === 'done',
    markStarted: async (id) => {
      const cur = steps.get(id);
      steps.set(id, { state: 'started', attempt: cur === undefined ? 1 : cur.state === 'failed' ? cur.attempt + 1 : cur.attempt });
    },
    idempotencyKey: (id) => `run/${id}#${steps.get(id)!.attempt}`,
    markDone: async (id, o: GuestOutcome) => {
      const cur = steps.get(id)!;
      steps.set(id, { ...cur, state: o.status === 'failed' ? 'failed' : 'done', ...(o.error instanceof Error ? { error: o.error.message } : {}) });
    },
  };
  return { journal, steps };
}

function recordingRunner(failIds: string[] = []) {
  const log: string[] = [];
  const keys: string[] = [];
  let clonesInFlight = 0;
  let maxClonesInFlight = 0;
  const perNode = new Map<string, number>();
  let maxPerNode = 0;
  const runner: GuestRunner = {
    async clone(guest, key) {
      keys.push(`clone ${key}`);
      clonesInFlight++;
      maxClonesInFlight = Math.max(maxClonesInFlight, clonesInFlight);
      await sleep(10);
      clonesInFlight--;
      log.push(`clone:${guest.id}`);
    },
    async converge(guest, key) {
      keys.push(`converge ${key}`);
      perNode.set(guest.node, (perNode.get(guest.node) ?? 0) + 1);
      maxPerNode = Math.max(maxPerNode, perNode.get(guest.node)!);
      await sleep(15);
      perNode.set(guest.node, perNode.get(guest.node)! - 1);
      if (failIds.includes(guest.id)) throw new Error(`boom ${guest.id}`);
      log.push(`converge:${guest.id}`);
      return { changed: true };
    },
    async remove() {
      return { changed: true };
    },
  };
  return { runner, log, keys, stats: () => ({ maxClonesInFlight, maxPerNode }) };
}

describe('apply - execute', () => {
  it('converges parents before children and serialises clones of one source', async () => {
    const { runner, log, stats } = recordingRunner();
    const guests = [g('tpl', 'a'), g('c1', 'a', ['tpl'], 'tpl'), g('c2', 'a', ['tpl'], 'tpl'), g('c3', 'a', ['tpl'], 'tpl')];
    const out = await executePlan(guests, { limits: { perNode: 4 }, runner, journal: memoryJournal().journal });
    expect(out.every((o) => o.status === 'converged')).toBe(true);
    expect(log.indexOf('converge:tpl')).toBeLessThan(log.indexOf('clone:c1'));
    expect(stats().maxClonesInFlight).toBe(1);
  });

  it('never runs more than perNode pipelines on one node', async () => {
    const { runner, stats } = recordingRunner();
    await executePlan(['a', 'b', 'c', 'd', 'e'].map((id) => g(id, 'n1')), { limits: { perNode: 2 }, runner, journal: memoryJournal().journal });
    expect(stats().maxPerNode).toBe(2);
  });

  it('blocks only the dependents of a failed guest', async () => {
    const { runner } = recordingRunner(['tpl']);
    const out = await executePlan([g('tpl', 'a'), g('child', 'a', ['tpl']), g('other', 'b')], { limits: { perNode: 2 }, runner, journal: memoryJournal().journal });
    const status = Object.fromEntries(out.map((o) => [o.id, o.status]));
    expect(status).toEqual({ tpl: 'failed', child: 'blocked', other: 'converged' });
  });

  it('skips guests the journal already records as done', async () => {
    const { runner, log } = recordingRunner();
    const out = await executePlan([g('a', 'n'), g('b', 'n', ['a'])], { limits: { perNode: 1 }, runner, journal: memoryJournal(['a']).journal });
    expect(out.map((o) => o.status)).toEqual(['skipped', 'converged']);
    expect(log).toEqual(['converge:b']);
  });

  it('records a failed guest as failed in the journal, with its error', async () => {
    const { runner } = recordingRunner(['tpl']);
    const { journal, steps } = memoryJournal();
    await executePlan([g('tpl', 'a'), g('other', 'b')], { limits: { perNode: 2 }, runner, journal });
    expect(steps.get('tpl')).toEqual({ state: 'failed', attempt: 1, error: 'boom tpl' });
    expect(steps.get('other')).toMatchObject({ state: 'done' });
  });

  it('sends the journal key of each attempt: a resume retries a failed guest under a new key', async () => {
    const { journal } = memoryJournal();
    const first = recordingRunner(['c1']);
    await executePlan([g('tpl', 'a'), g('c1', 'a', ['tpl'], 'tpl')], { limits: { perNode: 2 }, runner: first.runner, journal });
    expect(first.keys).toEqual(['converge run/tpl#1', 'clone run/c1#1', 'converge run/c1#1']);
    const resumed = recordingRunner();
    const out = await executePlan([g('tpl', 'a'), g('c1', 'a', ['tpl'], 'tpl')], { limits: { perNode: 2 }, runner: resumed.runner, journal });
    expect(out.map((o) => o.status)).toEqual(['skipped', 'converged']);
    expect(resumed.keys).toEqual(['clone run/c1#2', 'converge run/c1#2']);
  });
});
