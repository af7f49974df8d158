import { describe, expect, it } from 'vitest';
import { executePlan, type GuestRunner } from './execute.js';
import type { PlannedGuest } from './types.js';

const g = (id: string, node: string, deps: string[] = [], cloneSource?: string): PlannedGuest => ({
  id,
  vmid: 100,
  node,
  action: 'create',
  dependsOn: deps,
  steps: [{ name: 'ensure_exists', reason: 'missing', estSeconds: 1 }],
  ...(cloneSource ? { cloneSource } : {}),
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recordingRunner(failIds: string[] = []) {
  const log: string[] = [];
  let clonesInFlight = 0;
  let maxClonesInFlight = 0;
  const perNode = new Map<string, number>();
  let maxPerNode = 0;
  const runner: GuestRunner = {
    async clone(guest) {
      clonesInFlight++;
      maxClonesInFlight = Math.max(maxClonesInFlight, clonesInFlight);
      await sleep(10);
      clonesInFlight--;
      log.push(`clone:${guest.id}`);
    },
    async converge(guest) {
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
  return { runner, log, stats: () => ({ maxClonesInFlight, maxPerNode }) };
}

describe('reconcile - execute', () => {
  it('converges parents before children and serialises clones of one source', async () => {
    const { runner, log, stats } = recordingRunner();
    const guests = [g('tpl', 'a'), g('c1', 'a', ['tpl'], 'tpl'), g('c2', 'a', ['tpl'], 'tpl'), g('c3', 'a', ['tpl'], 'tpl')];
    const out = await executePlan(guests, { limits: { perNode: 4 }, runner });
    expect(out.every((o) => o.status === 'converged')).toBe(true);
    expect(log.indexOf('converge:tpl')).toBeLessThan(log.indexOf('clone:c1'));
    expect(stats().maxClonesInFlight).toBe(1);
  });

  it('never runs more than perNode pipelines on one node', async () => {
    const { runner, stats } = recordingRunner();
    await executePlan(['a', 'b', 'c', 'd', 'e'].map((id) => g(id, 'n1')), { limits: { perNode: 2 }, runner });
    expect(stats().maxPerNode).toBe(2);
  });

  it('blocks only the dependents of a failed guest', async () => {
    const { runner } = recordingRunner(['tpl']);
    const out = await executePlan([g('tpl', 'a'), g('child', 'a', ['tpl']), g('other', 'b')], { limits: { perNode: 2 }, runner });
    const status = Object.fromEntries(out.map((o) => [o.id, o.status]));
    expect(status).toEqual({ tpl: 'failed', child: 'blocked', other: 'converged' });
  });

  it('skips guests the journal already records as done', async () => {
    const { runner, log } = recordingRunner();
    const done = new Set(['a']);
    const out = await executePlan([g('a', 'n'), g('b', 'n', ['a'])], {
      limits: { perNode: 1 },
      runner,
      journal: {
        isDone: async (id) => done.has(id),
        markStarted: async () => undefined,
        markDone: async (id) => void done.add(id),
      },
    });
    expect(out.map((o) => o.status)).toEqual(['skipped', 'converged']);
    expect(log).toEqual(['converge:b']);
  });
});
