/**
 * Scheduler benchmark (`npm run bench:scheduler`): not a test, it prints figures.
 *
 * 1. Throughput: 100,000 guests onto 5,000 nodes with mixed constraints — GPUs by model, count and
 *    free memory (some exclusive), storage by id, node labels, anti-affinity groups, pinned guests,
 *    OS-template and template-guest clones — for binpack and spread.
 * 2. Quality: on many small random cases (8 guests × 5 nodes, tight capacity, anti-affinity) the
 *    greedy result is compared with the best assignment found by exhaustive search under the same
 *    objective the scheduler optimises: first the number of guests placed, then
 *    Σ_nodes Σ_resources weight·utilisation² (binpack maximises it, spread minimises it).
 *
 * Every input comes from a seeded generator, so runs are repeatable.
 */
import { cpus, loadavg } from 'node:os';
import {
  DEFAULT_POLICY,
  schedule,
  type ClusterView,
  type GpuView,
  type GuestView,
  type NodeView,
  type PendingGuest,
  type ScheduleOptions,
  type SchedulePolicy,
  type StorageView,
} from '@phoenix/coordinator';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const between = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function storage(id: string, totalGiB: number, freeGiB: number, shared = false): StorageView {
  return { id, type: shared ? 'nfs' : 'zfspool', totalGiB, freeGiB, content: ['images', 'rootdir'], shared, active: true };
}

function node(name: string, o: Partial<NodeView> & { cores: number; memoryMiB: number }): NodeView {
  return {
    name,
    labels: o.labels ?? {},
    cpu: { cores: o.cores, usagePct: undefined, reservedCores: 2 },
    memory: { totalMiB: o.memoryMiB, usedMiB: undefined, reservedMiB: 8192 },
    storages: o.storages ?? [],
    gpus: o.gpus ?? [],
    guests: o.guests ?? [],
    osTemplates: o.osTemplates ?? [],
    lastHeartbeat: undefined,
    statusOverride: 'up',
    sampledAt: { node: 0, gpu: 0, guests: 0 },
  };
}

function guest(vmid: number, o: Partial<GuestView>): GuestView {
  return {
    vmid,
    name: o.name,
    type: o.type ?? 'lxc',
    status: 'running',
    template: o.template ?? false,
    snapshots: o.snapshots ?? [],
    cores: o.cores ?? 0,
    memoryMiB: o.memoryMiB ?? 0,
    diskGiB: 0,
    storage: undefined,
    gpus: o.gpus ?? [],
    gpuExclusive: false,
    groups: o.groups ?? [],
  };
}

const GPU_MODELS = [
  { model: 'NVIDIA H100 80GB HBM3', mem: 81559, ask: 'H100' },
  { model: 'NVIDIA L40S', mem: 46068, ask: 'L40S' },
  { model: 'NVIDIA A100-SXM4-40GB', mem: 40960, ask: 'A100' },
];
const ZONES = Array.from({ length: 25 }, (_, i) => `z${i}`);
const TEMPLATE_GUESTS = ['base', 'cuda', 'docker', 'ubuntu-cloud'];
const OS_FILE = 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst';

function bigView(nodes: number, seed: number): ClusterView {
  const r = rng(seed);
  const list: NodeView[] = [];
  let vmid = 100;
  for (let i = 0; i < nodes; i++) {
    const name = `n${String(i).padStart(5, '0')}`;
    const gpuNode = r() < 0.1;
    const spec = gpuNode ? GPU_MODELS[i % GPU_MODELS.length] : undefined;
    const gpus: GpuView[] = spec
      ? Array.from({ length: 4 }, (_, k) => ({
          index: k,
          model: spec.model,
          uuid: undefined,
          memoryTotalMiB: spec.mem,
          memoryFreeMiB: r() < 0.3 ? Math.floor(spec.mem * r()) : spec.mem - 500,
          utilizationPct: r() < 0.3 ? between(r, 10, 100) : 0,
        }))
      : [];
    const storages = [storage('local-zfs', pick(r, [2000, 3000, 4000]), 0), storage('shared-nfs', 2_000_000, 1_500_000, true)];
    if (r() < 0.4) storages.push(storage('nvme', 1800, 0));
    for (const s of storages) if (!s.shared) (s as { freeGiB: number }).freeGiB = Math.floor(s.totalGiB * (0.6 + 0.4 * r()));
    const guests: GuestView[] = [];
    if (r() < 0.3) {
      for (let k = between(r, 1, 3); k > 0; k--) guests.push(guest(vmid++, { cores: between(r, 2, 16), memoryMiB: 1024 * between(r, 4, 64) }));
    }
    if (r() < 0.05) guests.push(guest(vmid++, { name: pick(r, TEMPLATE_GUESTS), snapshots: ['final-form'], template: false }));
    list.push(
      node(name, {
        cores: pick(r, [32, 48, 64, 96]),
        memoryMiB: 1024 * pick(r, [256, 384, 512, 768]),
        labels: { zone: ZONES[i % ZONES.length] as string, tier: i % 3 === 0 ? 'gold' : 'std' },
        storages,
        gpus,
        guests,
        osTemplates: r() < 0.7 ? [OS_FILE] : [],
      }),
    );
  }
  list.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { cluster: 'bench', observedAt: 0, heartbeatIntervalMs: 10_000, missedHeartbeats: 3, nodes: list };
}

function bigPending(count: number, nodes: number, seed: number): PendingGuest[] {
  const r = rng(seed);
  const out: PendingGuest[] = [];
  let group = 0;
  let replicas = 0;
  for (let i = 0; i < count; i++) {
    const x = r();
    const kind = r() < 0.7 ? ('container' as const) : ('vm' as const);
    const g: {
      name: string;
      kind: 'container' | 'vm';
      cores: number;
      memoryMiB: number;
      disks: { storage?: string; sizeGiB: number }[];
      gpu?: PendingGuest['gpu'];
      node?: string;
      labels?: Record<string, string>;
      antiAffinity?: string[];
      template?: PendingGuest['template'];
    } = {
      name: `g${String(i).padStart(6, '0')}`,
      kind,
      cores: pick(r, [1, 2, 2, 4, 4, 8]),
      memoryMiB: 1024 * pick(r, [1, 2, 4, 4, 8, 16, 32]),
      disks: [{ sizeGiB: pick(r, [8, 16, 32, 64, 100]) }],
    };
    if (x < 0.04) {
      const spec = pick(r, GPU_MODELS);
      const exclusive = kind === 'vm' && r() < 0.3;
      g.gpu = { count: r() < 0.8 ? 1 : 2, model: r() < 0.6 ? spec.ask : undefined, minFreeMemoryMiB: exclusive ? undefined : 1024 * between(r, 4, 20), exclusive };
      g.memoryMiB = 1024 * pick(r, [32, 64]);
    } else if (x < 0.2) {
      g.labels = r() < 0.5 ? { zone: pick(r, ZONES) } : { tier: 'gold' };
    } else if (x < 0.3) {
      g.disks = [{ storage: 'nvme', sizeGiB: pick(r, [20, 50, 100]) }];
    } else if (x < 0.4) {
      if (replicas === 0) {
        group++;
        replicas = between(r, 3, 5);
      }
      replicas--;
      g.antiAffinity = [`svc${group}`];
    } else if (x < 0.45) {
      g.node = `n${String(between(r, 0, nodes - 1)).padStart(5, '0')}`;
    }
    if (r() < 0.1) g.disks.push({ storage: 'shared-nfs', sizeGiB: pick(r, [10, 20, 50]) });
    const t = r();
    if (t < 0.6) g.template = { kind: 'file', file: kind === 'container' ? OS_FILE : 'noble-server-cloudimg-amd64.img' };
    else if (t < 0.8 && kind === 'container') g.template = { kind: 'guest', guest: pick(r, TEMPLATE_GUESTS), snapshot: 'final-form' };
    out.push(g);
  }
  return out;
}

function throughput(strategy: SchedulePolicy['strategy']): void {
  const N = 5_000;
  const G = 100_000;
  const view = bigView(N, 1);
  const pending = bigPending(G, N, 2);
  const policy: SchedulePolicy = { ...DEFAULT_POLICY, strategy };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const result = schedule(view, pending, policy);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const gpu = result.placements.filter((p) => p.gpus.length > 0).length;
  const copies = result.placements.filter((p) => p.templateCopy).length;
  console.log(
    `  ${strategy.padEnd(7)} ${G} guests onto ${N} nodes: ${(ms / 1000).toFixed(2)} s, ${Math.round(G / (ms / 1000)).toLocaleString('en')} decisions/s ` +
      `(${cpuS.toFixed(2)} s CPU: ${Math.round(G / cpuS).toLocaleString('en')} per CPU second) ` +
      `(${result.placements.length} placed incl. ${gpu} with GPUs and ${copies} with a template copy, ${result.unplaced.length} unplaced with reasons)`,
  );
}

// ---- quality against exhaustive search ---------------------------------------------------------

interface SmallCase {
  view: ClusterView;
  pending: PendingGuest[];
}

function smallCase(seed: number): SmallCase {
  const r = rng(seed);
  const nodes: NodeView[] = [];
  for (let i = 0; i < 5; i++) {
    const cores = pick(r, [8, 12, 16]);
    nodes.push({
      ...node(`m${i}`, { cores: cores + 2, memoryMiB: 1024 * pick(r, [24, 32, 48]) + 8192, storages: [storage('local', 400, between(r, 150, 400))] }),
      guests: r() < 0.4 ? [guest(100 + i, { cores: between(r, 1, 6), memoryMiB: 1024 * between(r, 2, 12) })] : [],
    });
  }
  const pending: PendingGuest[] = [];
  for (let k = 0; k < 8; k++) {
    pending.push({
      name: `s${k}`,
      kind: 'container',
      cores: between(r, 2, 10),
      memoryMiB: 1024 * between(r, 4, 24),
      disks: [{ sizeGiB: between(r, 10, 120) }],
      ...(r() < 0.3 ? { antiAffinity: ['ha'] } : {}),
    });
  }
  return { view: { cluster: 'q', observedAt: 0, heartbeatIntervalMs: 10_000, missedHeartbeats: 3, nodes }, pending };
}

/**
 * The objective, from scratch and independently of the scheduler's code: Σ weight·(capacity / mean
 * capacity)·utilisation² over every node's cpu and memory and every storage.
 */
function objective(c: SmallCase, assignment: readonly number[], policy: SchedulePolicy): number {
  const w = policy.weights;
  const capC = c.view.nodes.map((n) => (n.cpu.cores - n.cpu.reservedCores) * policy.overcommit.cpu);
  const capM = c.view.nodes.map((n) => (n.memory.totalMiB - n.memory.reservedMiB) * policy.overcommit.memory);
  const capS = c.view.nodes.map((n) => (n.storages[0] as StorageView).totalGiB);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const [mC, mM, mS] = [mean(capC), mean(capM), mean(capS)];
  let total = 0;
  c.view.nodes.forEach((n, i) => {
    let cores = n.guests.reduce((a, g) => a + g.cores, 0);
    let mem = n.guests.reduce((a, g) => a + g.memoryMiB, 0);
    const s = n.storages[0] as StorageView;
    let disk = s.totalGiB - s.freeGiB;
    c.pending.forEach((g, k) => {
      if (assignment[k] !== i) return;
      cores += g.cores;
      mem += g.memoryMiB;
      disk += g.disks[0]?.sizeGiB ?? 0;
    });
    const uc = cores / (capC[i] as number);
    const um = mem / (capM[i] as number);
    const us = disk / s.totalGiB;
    total += (w.cpu * (capC[i] as number) * uc * uc) / mC + (w.memory * (capM[i] as number) * um * um) / mM + (w.storage * s.totalGiB * us * us) / mS;
  });
  return total;
}

/** Best assignment by exhaustive search: most guests placed, then the best objective. */
function exhaustive(c: SmallCase, policy: SchedulePolicy): { placed: number; value: number } {
  const nodes = c.view.nodes;
  const capC = nodes.map((n) => (n.cpu.cores - n.cpu.reservedCores) * policy.overcommit.cpu);
  const capM = nodes.map((n) => (n.memory.totalMiB - n.memory.reservedMiB) * policy.overcommit.memory);
  const useC = nodes.map((n) => n.guests.reduce((a, g) => a + g.cores, 0));
  const useM = nodes.map((n) => n.guests.reduce((a, g) => a + g.memoryMiB, 0));
  const freeS = nodes.map((n) => (n.storages[0] as StorageView).freeGiB);
  const ha = nodes.map(() => 0);
  const assignment = c.pending.map(() => -1);
  const better = policy.strategy === 'binpack' ? (a: number, b: number) => a > b + 1e-12 : (a: number, b: number) => a < b - 1e-12;
  let best = { placed: -1, value: 0 };
  const walk = (k: number, placed: number): void => {
    if (placed + (c.pending.length - k) < best.placed) return; // cannot place more than the best
    if (k === c.pending.length) {
      const value = objective(c, assignment, policy);
      if (placed > best.placed || (placed === best.placed && better(value, best.value))) best = { placed, value };
      return;
    }
    const g = c.pending[k] as PendingGuest;
    const size = g.disks[0]?.sizeGiB ?? 0;
    const inHa = (g.antiAffinity ?? []).length > 0;
    for (let i = 0; i < nodes.length; i++) {
      if ((useC[i] as number) + g.cores > (capC[i] as number) + 1e-9) continue;
      if ((useM[i] as number) + g.memoryMiB > (capM[i] as number) + 1e-9) continue;
      if ((freeS[i] as number) < size) continue;
      if (inHa && (ha[i] as number) > 0) continue;
      useC[i] = (useC[i] as number) + g.cores;
      useM[i] = (useM[i] as number) + g.memoryMiB;
      freeS[i] = (freeS[i] as number) - size;
      if (inHa) ha[i] = 1;
      assignment[k] = i;
      walk(k + 1, placed + 1);
      assignment[k] = -1;
      if (inHa) ha[i] = 0;
      useC[i] = (useC[i] as number) - g.cores;
      useM[i] = (useM[i] as number) - g.memoryMiB;
      freeS[i] = (freeS[i] as number) + size;
    }
    walk(k + 1, placed); // leave it unplaced
  };
  walk(0, 0);
  return best;
}

type Mode = 'greedy' | 'greedy + local search' | 'full';
const MODES: Readonly<Record<Mode, ScheduleOptions>> = {
  greedy: { improve: false },
  'greedy + local search': { improve: { exactSearch: false } },
  full: {},
};

function quality(strategy: SchedulePolicy['strategy'], seeds: number, mode: Mode): void {
  const policy: SchedulePolicy = { ...DEFAULT_POLICY, strategy, gpuNodePenalty: 0, templateCopyCost: 0 };
  let ratioSum = 0;
  let worst = 1;
  let within2 = 0;
  let fewer = 0;
  let compared = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const c = smallCase(1000 + seed);
    const result = schedule(c.view, c.pending, policy, MODES[mode]);
    const index = new Map(c.view.nodes.map((n, i) => [n.name, i]));
    const assignment = c.pending.map((g) => {
      const p = result.placements.find((x) => x.guest === g.name);
      return p ? (index.get(p.node) as number) : -1;
    });
    const mine = objective(c, assignment, policy);
    const best = exhaustive(c, policy);
    if (result.placements.length < best.placed) {
      fewer++;
      continue;
    }
    compared++;
    // quality ≤ 1: binpack wants a large objective, spread a small one
    const q = strategy === 'binpack' ? mine / best.value : best.value / mine;
    ratioSum += q;
    worst = Math.min(worst, q);
    if (q >= 0.98 - 1e-12) within2++;
  }
  console.log(
    `  ${strategy.padEnd(7)} ${mode.padEnd(21)} mean ${((ratioSum / Math.max(1, compared)) * 100).toFixed(2)}% of optimal, ` +
      `worst ${(worst * 100).toFixed(2)}%, ${within2}/${compared} within 2%, ${fewer} of ${seeds} placed fewer guests than possible`,
  );
}

console.log(
  `scheduler benchmark (node ${process.version}, ${cpus().length} CPUs: ${cpus()[0]?.model ?? 'unknown'}, load average ${loadavg()[0]?.toFixed(1) ?? '?'})`,
);
console.log('throughput:');
throughput('binpack');
throughput('spread');
const SEEDS = Number(process.env['BENCH_QUALITY_SEEDS'] ?? 300);
console.log(`quality against exhaustive search (${SEEDS} random cases of 8 guests × 5 nodes each):`);
for (const strategy of ['binpack', 'spread'] as const) {
  for (const mode of Object.keys(MODES) as Mode[]) quality(strategy, SEEDS, mode);
}
