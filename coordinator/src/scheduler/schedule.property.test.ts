import { describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import type { ClusterView, NodeView } from '../view/types.js';
import { nodeUsage } from '../view/usage.js';
import { gpuModelMatches } from './model-match.js';
import { explain, schedule } from './schedule.js';
import { makeNode, makeView } from './testing.js';
import type { PendingGuest, SchedulePolicy } from './types.js';

const MODELS = ['NVIDIA H100 80GB HBM3', 'NVIDIA L40S'];
const ZONES = ['a', 'b', 'c'];
const GROUPS = ['g1', 'g2'];

/** `arb` in about one case out of `every`, undefined otherwise. */
function sometimes<T>(arb: fc.Arbitrary<T>, every: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: every - 1 }, { arbitrary: arb, weight: 1 });
}

const storageArb = fc.constantFrom(
  { id: 'local', content: ['images', 'rootdir'] as const },
  { id: 'nvme', content: ['images', 'rootdir'] as const },
  { id: 'iso', content: ['iso', 'vztmpl'] as const },
);

const nodeArb = (name: string) =>
  fc
    .record({
      cores: fc.integer({ min: 1, max: 64 }),
      memoryMiB: fc.integer({ min: 1024, max: 262144 }),
      zone: sometimes(fc.constantFrom(...ZONES), 2),
      storages: fc.uniqueArray(storageArb, { selector: (s) => s.id, minLength: 1, maxLength: 3 }),
      sharedFree: sometimes(fc.integer({ min: 0, max: 500 }), 2),
      gpus: fc.array(
        fc.record({ model: fc.constantFrom(...MODELS), free: fc.integer({ min: 0, max: 46068 }), util: fc.integer({ min: 0, max: 100 }) }),
        { maxLength: 4 },
      ),
      existing: fc.array(
        fc.record({ cores: fc.integer({ min: 0, max: 8 }), memoryMiB: fc.integer({ min: 0, max: 8192 }), group: sometimes(fc.constantFrom(...GROUPS), 3) }),
        { maxLength: 2 },
      ),
      down: fc.integer({ min: 0, max: 5 }).map((x) => x === 0),
      totals: fc.array(fc.integer({ min: 10, max: 2000 }), { minLength: 3, maxLength: 3 }),
    })
    .map((o) =>
      makeNode(name, {
        cores: o.cores,
        memoryMiB: o.memoryMiB,
        labels: o.zone ? { zone: o.zone } : {},
        storages: [
          ...o.storages.map((s, i) => ({ id: s.id, content: [...s.content], totalGiB: o.totals[i] ?? 100, freeGiB: Math.floor((o.totals[i] ?? 100) * 0.8) })),
          ...(o.sharedFree !== undefined ? [{ id: 'nfs', shared: true, totalGiB: 1000, freeGiB: 500, content: ['images' as const, 'rootdir' as const] }] : []),
        ],
        gpus: o.gpus.map((g) => ({ model: g.model, memoryTotalMiB: 46068, memoryFreeMiB: g.free, utilizationPct: g.util })),
        guests: o.existing.map((e, i) => ({ name: `${name}-old${i}`, cores: e.cores, memoryMiB: e.memoryMiB, groups: e.group ? [e.group] : [] })),
        down: o.down,
      }),
    );

const viewArb: fc.Arbitrary<ClusterView> = fc
  .integer({ min: 1, max: 7 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => nodeArb(`n${i}`))))
  .map((nodes) => makeView(nodes));

const guestArb = (i: number, names: readonly string[]): fc.Arbitrary<PendingGuest> =>
  fc
    .record({
      kind: fc.constantFrom('container' as const, 'vm' as const),
      cores: fc.integer({ min: 1, max: 16 }),
      memoryMiB: fc.integer({ min: 256, max: 32768 }),
      disks: fc.array(fc.record({ storage: sometimes(fc.constantFrom('local', 'nvme', 'nfs', 'nowhere'), 3), sizeGiB: fc.integer({ min: 1, max: 200 }) }), { minLength: 1, maxLength: 2 }),
      gpu: sometimes(
        fc.record({
          count: fc.integer({ min: 1, max: 2 }),
          model: fc.option(fc.constantFrom('H100', 'L40S'), { nil: undefined }),
          minFreeMemoryMiB: fc.option(fc.integer({ min: 1, max: 40000 }), { nil: undefined }),
          maxUtilizationPct: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
          exclusive: fc.boolean(),
        }),
        4,
      ),
      node: sometimes(fc.constantFrom('n0', 'n1', 'n2', 'nx'), 5),
      zone: sometimes(fc.constantFrom(...ZONES), 4),
      groups: sometimes(fc.subarray(GROUPS, { minLength: 1 }), 3),
      template: sometimes(
        fc.oneof(
          fc.constant({ kind: 'file' as const, file: 'ubuntu.tar.zst' }),
          fc.constantFrom(...(names.length > 0 ? names : ['none'])).map((g) => ({ kind: 'guest' as const, guest: g, snapshot: 'snap' })),
        ),
        3,
      ),
    })
    .map((g) => ({
      name: `p${i}`,
      kind: g.kind,
      cores: g.cores,
      memoryMiB: g.memoryMiB,
      disks: g.disks,
      gpu: g.gpu,
      node: g.node,
      labels: g.zone ? { zone: g.zone } : undefined,
      antiAffinity: g.groups,
      template: g.template?.kind === 'guest' && g.template.guest === `p${i}` ? undefined : g.template,
    }));

const pendingArb: fc.Arbitrary<PendingGuest[]> = fc
  .integer({ min: 0, max: 18 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => guestArb(i, Array.from({ length: n }, (_, j) => `p${j}`)))))
  .map((gs) => [...gs]);

const policyArb: fc.Arbitrary<SchedulePolicy> = fc.record({
  strategy: fc.constantFrom('binpack' as const, 'spread' as const),
  weights: fc.record({ cpu: fc.double({ min: 0, max: 2, noNaN: true }), memory: fc.double({ min: 0, max: 2, noNaN: true }), gpu: fc.double({ min: 0, max: 2, noNaN: true }), storage: fc.double({ min: 0, max: 2, noNaN: true }) }),
  overcommit: fc.record({ cpu: fc.constantFrom(1, 2, 4), memory: fc.constantFrom(1, 1.25) }),
  templateCopies: fc.constantFrom('allow' as const, 'deny' as const),
  templateCopyCost: fc.constantFrom(0, 0.25),
  gpuNodePenalty: fc.constantFrom(0, 0.1),
});

const EPS = 1e-6;
const node = (view: ClusterView, name: string): NodeView => view.nodes.find((n) => n.name === name) as NodeView;
const runs = { numRuns: 300 };

describe('schedule properties', () => {
  test.prop([viewArb, pendingArb, policyArb], runs)('never puts a node, a storage or a GPU over capacity', (view, pending, policy) => {
    const r = schedule(view, pending, policy);
    const byName = new Map(pending.map((g) => [g.name, g]));
    const slotFree = new Map<string, number>();
    for (const n of view.nodes) for (const s of n.storages) slotFree.set(s.shared ? `shared:${s.id}` : `${n.name}:${s.id}`, s.freeGiB);
    const gpuFree = new Map<string, number>();
    const gpuUsers = new Map<string, number>();
    for (const n of view.nodes) {
      const use = nodeUsage(n);
      for (const g of n.gpus) {
        gpuFree.set(`${n.name}:${g.index}`, g.memoryFreeMiB);
        gpuUsers.set(`${n.name}:${g.index}`, use.gpuUsers.get(g.index)?.users ?? 0);
      }
    }
    const cpu = new Map(view.nodes.map((n) => [n.name, nodeUsage(n).allocatedCores]));
    const mem = new Map(view.nodes.map((n) => [n.name, nodeUsage(n).allocatedMemoryMiB]));
    for (const p of r.placements) {
      const g = byName.get(p.guest) as PendingGuest;
      const n = node(view, p.node);
      cpu.set(p.node, (cpu.get(p.node) ?? 0) + g.cores);
      mem.set(p.node, (mem.get(p.node) ?? 0) + g.memoryMiB);
      g.disks.forEach((d, k) => {
        const id = p.storages[k] as string;
        const shared = n.storages.find((s) => s.id === id)?.shared;
        const key = shared ? `shared:${id}` : `${p.node}:${id}`;
        slotFree.set(key, (slotFree.get(key) ?? 0) - d.sizeGiB);
      });
      for (const idx of p.gpus) {
        const key = `${p.node}:${idx}`;
        if (g.gpu?.exclusive) {
          expect(gpuUsers.get(key), `GPU ${key} taken whole while in use`).toBe(0);
          gpuUsers.set(key, Number.POSITIVE_INFINITY);
        } else {
          expect(gpuUsers.get(key), `GPU ${key} shared while passed through`).not.toBe(Number.POSITIVE_INFINITY);
          gpuUsers.set(key, (gpuUsers.get(key) ?? 0) + 1);
          gpuFree.set(key, (gpuFree.get(key) ?? 0) - (g.gpu?.minFreeMemoryMiB ?? 0));
        }
      }
    }
    for (const n of view.nodes) {
      expect(cpu.get(n.name) ?? 0).toBeLessThanOrEqual(Math.max(nodeUsage(n).allocatedCores, n.cpu.cores * policy.overcommit.cpu) + EPS);
      expect(mem.get(n.name) ?? 0).toBeLessThanOrEqual(Math.max(nodeUsage(n).allocatedMemoryMiB, n.memory.totalMiB * policy.overcommit.memory) + EPS);
    }
    for (const [key, free] of slotFree) expect(free, `storage ${key}`).toBeGreaterThanOrEqual(-EPS);
    for (const [key, free] of gpuFree) expect(free, `GPU ${key}`).toBeGreaterThanOrEqual(-EPS);
  });

  test.prop([viewArb, pendingArb, policyArb], runs)('honours pinning, labels, node status, anti-affinity, GPU and storage requests', (view, pending, policy) => {
    const r = schedule(view, pending, policy);
    const byName = new Map(pending.map((g) => [g.name, g]));
    const groupsOn = new Map<string, Set<string>>();
    for (const n of view.nodes) for (const g of n.guests) for (const grp of g.groups) groupsOn.set(`${n.name}:${grp}`, new Set(['existing']));
    for (const p of r.placements) {
      const g = byName.get(p.guest) as PendingGuest;
      const n = node(view, p.node);
      expect(n.statusOverride).toBe('up');
      if (g.node !== undefined) expect(p.node).toBe(g.node);
      for (const [k, v] of Object.entries(g.labels ?? {})) expect(n.labels[k]).toBe(v);
      for (const grp of g.antiAffinity ?? []) {
        const key = `${p.node}:${grp}`;
        expect(groupsOn.has(key), `${p.guest} shares group ${grp} on ${p.node}`).toBe(false);
      }
      for (const grp of g.antiAffinity ?? []) groupsOn.set(`${p.node}:${grp}`, new Set([p.guest]));
      g.disks.forEach((d, k) => {
        if (d.storage !== undefined) expect(p.storages[k]).toBe(d.storage);
        const s = n.storages.find((x) => x.id === p.storages[k]);
        expect(s).toBeDefined();
        if (d.storage === undefined) expect(s?.content).toContain(g.kind === 'container' ? 'rootdir' : 'images');
      });
      if (g.gpu) {
        expect(p.gpus).toHaveLength(g.gpu.count);
        for (const idx of p.gpus) {
          const gpu = n.gpus.find((x) => x.index === idx);
          expect(gpu).toBeDefined();
          if (g.gpu.model) expect(gpuModelMatches(g.gpu.model, gpu?.model ?? '')).toBe(true);
          if (g.gpu.maxUtilizationPct !== undefined) expect(gpu?.utilizationPct ?? 0).toBeLessThanOrEqual(g.gpu.maxUtilizationPct);
        }
      } else expect(p.gpus).toEqual([]);
      if (policy.templateCopies === 'deny') expect(p.templateCopy).toBe(false);
    }
  });

  test.prop([viewArb, pendingArb, policyArb, fc.integer()], runs)('is deterministic: same input, any order, either scan mode → same result', (view, pending, policy, seed) => {
    const a = schedule(view, pending, policy);
    const shuffled = [...pending];
    let s = seed;
    for (let i = shuffled.length - 1; i > 0; i--) {
      s = (Math.imul(s, 1103515245) + 12345) | 0;
      const j = Math.abs(s) % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j] as PendingGuest, shuffled[i] as PendingGuest];
    }
    expect(schedule(view, pending, policy)).toEqual(a);
    const b = schedule(view, shuffled, policy);
    expect(b.placements).toEqual(a.placements);
    expect(b.unplaced).toEqual(a.unplaced);
    const c = schedule(view, pending, policy, { scan: 'every-node' });
    expect(c.placements).toEqual(a.placements);
    expect(c.unplaced).toEqual(a.unplaced);
  });

  test.prop([viewArb, pendingArb, policyArb], runs)('decides every guest once, and every unplaced guest has a reason covering every node', (view, pending, policy) => {
    const r = schedule(view, pending, policy);
    expect(r.placements.length + r.unplaced.length).toBe(pending.length);
    expect(new Set([...r.placements.map((p) => p.guest), ...r.unplaced.map((u) => u.guest)]).size).toBe(pending.length);
    expect(r.reasons.size).toBe(pending.length);
    for (const u of r.unplaced) {
      expect(u.reason.length).toBeGreaterThan(10);
      const total = Object.values(u.rejected).reduce((a, b) => a + b, 0);
      expect(total).toBe(view.nodes.length);
      expect(r.reasons.get(u.guest)?.node).toBeUndefined();
    }
    for (const p of r.placements) expect(r.reasons.get(p.guest)?.node).toBe(p.node);
  });

  test.prop([viewArb, pendingArb.filter((p) => p.length > 0), policyArb, fc.nat()], runs)('explain agrees with schedule: the chosen node has the best score of the feasible ones', (view, pending, policy, pick) => {
    const guest = (pending[pick % pending.length] as PendingGuest).name;
    const r = schedule(view, pending, policy);
    const ex = explain(view, pending, policy, guest);
    expect(ex.nodes).toHaveLength(view.nodes.length);
    const placed = r.placements.find((p) => p.guest === guest);
    expect(ex.decision.node).toBe(placed?.node);
    const feasible = ex.nodes.filter((n) => n.verdict !== 'rejected');
    const isTemplateGuest = pending.some((g) => g.template?.kind === 'guest' && g.template.guest === guest);
    if (placed) {
      const chosen = ex.nodes.find((n) => n.verdict === 'chosen');
      expect(chosen?.node).toBe(placed.node);
      expect(chosen?.score).toBe(placed.score);
      // every guest that may move sits on its best node: no single move improves the plan
      if (!isTemplateGuest) {
        expect(ex.nodes[0]).toBe(chosen);
        for (const f of feasible) expect(f.score ?? -Infinity).toBeLessThanOrEqual((chosen?.score ?? 0) + 1e-6);
      }
    } else {
      expect(feasible).toHaveLength(0);
    }
    for (const n of ex.nodes) if (n.verdict === 'rejected') expect(n.message).toMatch(/^(pinned|node is down|labels|anti-affinity|template|cpu|memory|storage|gpu)/);
  });
});

describe('the generators', () => {
  test('produce placements, rejections, GPU placements, template copies and anti-affinity in fair numbers', () => {
    const samples = fc.sample(fc.tuple(viewArb, pendingArb, policyArb), { numRuns: 300, seed: 42 });
    let placed = 0;
    let unplaced = 0;
    let gpus = 0;
    let copies = 0;
    let grouped = 0;
    for (const [view, pending, policy] of samples) {
      const r = schedule(view, pending, policy);
      placed += r.placements.length;
      unplaced += r.unplaced.length;
      gpus += r.placements.filter((p) => p.gpus.length > 0).length;
      copies += r.placements.filter((p) => p.templateCopy).length;
      grouped += r.placements.filter((p) => (pending.find((g) => g.name === p.guest)?.antiAffinity ?? []).length > 0).length;
    }
    expect(placed).toBeGreaterThan(300);
    expect(unplaced).toBeGreaterThan(300);
    expect(gpus).toBeGreaterThan(20);
    expect(copies).toBeGreaterThan(20);
    expect(grouped).toBeGreaterThan(50);
  });
});
