import { describe, expect, it } from 'vitest';
import { topologicalOrder } from './dag.js';
import { estimateSchedule } from './estimate.js';
import type { PlannedGuest } from './types.js';

const guest = (id: string, node: string, deps: string[], secs: number, cloneSource?: string): PlannedGuest => ({
  id,
  vmid: 100,
  node,
  action: 'create',
  dependsOn: deps,
  steps: [
    { name: 'ensure_exists', reason: 'missing', estSeconds: cloneSource ? 2 : secs / 2 },
    { name: 'start', reason: 'stopped', estSeconds: cloneSource ? secs - 2 : secs / 2 },
  ],
  ...(cloneSource ? { cloneSource } : {}),
});

describe('plan - dependency graph', () => {
  it('orders parents before children, keeping input order for ties', () => {
    const order = topologicalOrder([guest('app', 'a', ['tpl'], 10), guest('db', 'a', [], 10), guest('tpl', 'a', [], 10)]);
    expect(order).toEqual(['db', 'tpl', 'app']);
  });

  it('rejects a cycle naming its members', () => {
    const run = () => topologicalOrder([guest('a', 'n', ['c'], 1), guest('b', 'n', ['a'], 1), guest('c', 'n', ['b'], 1)]);
    expect(run).toThrow(/dependency cycle/);
    expect(run).toThrow(/a -> c -> b -> a|c -> b -> a -> c|b -> a -> c -> b/);
  });

  it('rejects unknown dependencies', () => {
    expect(() => topologicalOrder([guest('a', 'n', ['ghost'], 1)])).toThrow(/a\.dependsOn.*ghost/);
  });
});

describe('plan - makespan estimate', () => {
  it('runs independent guests in parallel across nodes and reports the critical path', () => {
    const est = estimateSchedule(
      [guest('tpl', 'a', [], 20), guest('x', 'a', ['tpl'], 10, 'tpl'), guest('y', 'b', [], 15)],
      { perNode: 2 },
    );
    expect(est.sequentialSeconds).toBe(45);
    expect(est.makespanSeconds).toBe(30);
    expect(est.criticalPath).toEqual(['tpl', 'x']);
    expect(est.lowerBoundSeconds).toBe(30);
  });

  it('serialises clones of one source but overlaps the rest of their pipelines', () => {
    const guests = [guest('tpl', 'a', [], 4), ...['c1', 'c2', 'c3'].map((id) => guest(id, 'a', ['tpl'], 10, 'tpl'))];
    const est = estimateSchedule(guests, { perNode: 4 });
    const starts = ['c1', 'c2', 'c3'].map((id) => est.timeline[id]!.start).sort((p, q) => p - q);
    expect(starts).toEqual([4, 6, 8]);
    expect(est.makespanSeconds).toBe(18);
  });

  it('respects the per-node limit', () => {
    const est = estimateSchedule(['a', 'b', 'c', 'd'].map((id) => guest(id, 'n', [], 10)), { perNode: 2 });
    expect(est.makespanSeconds).toBe(20);
    expect(est.lowerBoundSeconds).toBe(20);
  });
});
