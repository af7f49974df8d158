/**
 * Pending guests turned into requests against a ClusterState (node sets looked up once), and the
 * order they are decided in: template parents before their clones, then the most constrained and
 * largest first (first-fit-decreasing), names breaking ties.
 */
import { MinHeap } from './heap.js';
import { CONTENT_BIT, type ClusterState, type GpuModelSet, type NodeSet } from './state.js';
import type { PendingGuest } from './types.js';

export const F_PINNED = 0;
export const F_DOWN = 1;
export const F_LABELS = 2;
export const F_ANTI = 3;
export const F_TEMPLATE = 4;
export const F_CPU = 5;
export const F_MEMORY = 6;
export const F_STORAGE = 7;
export const F_GPU = 8;
export const FILTER_COUNT = 9;

export interface DiskReq {
  /** Storage id number, -1 for "any with the content type", -2 for an id no node has. */
  readonly sid: number;
  readonly name: string | undefined;
  readonly entry: Int32Array | null;
  readonly sizeGiB: number;
  readonly content: number;
}

export interface GpuReq {
  readonly count: number;
  readonly model: string | undefined;
  readonly minFree: number;
  readonly maxUtil: number;
  readonly devices: readonly number[] | undefined;
  readonly exclusive: boolean;
  readonly set: GpuModelSet;
}

export interface TemplateReq {
  readonly key: string;
  readonly display: string;
  readonly file: boolean;
  readonly present: Uint8Array;
}

export interface Req {
  readonly order: number;
  readonly guest: PendingGuest;
  readonly cores: number;
  readonly mem: number;
  /** -1 not pinned, -2 pinned to a node the view does not have. */
  readonly pinned: number;
  readonly labels: NodeSet | undefined;
  readonly labelPairs: readonly (readonly [string, string])[];
  readonly groups: readonly string[];
  readonly groupCounts: readonly Int32Array[];
  readonly template: TemplateReq | undefined;
  readonly disks: readonly DiskReq[];
  readonly gpu: GpuReq | undefined;
  /** Iterate only these nodes (null: all); nodes outside fail `driverFilter`. */
  readonly driver: Int32Array | null;
  readonly driverFilter: number;
  /** Template keys this guest makes available where it is placed. */
  readonly provides: readonly string[];
  /** Requests with equal shapes judge every node alike but for anti-affinity (see Run's scan cache). */
  readonly shape: string;
}

export function templateKey(t: NonNullable<PendingGuest['template']>): string {
  return t.kind === 'file' ? `file:${t.file}` : `${t.guest}@${t.snapshot ?? ''}`;
}

export function buildRequests(state: ClusterState, pending: readonly PendingGuest[]): Req[] {
  const provides = new Map<string, Set<string>>();
  for (const g of pending) {
    if (g.template?.kind === 'guest') {
      const keys = provides.get(g.template.guest) ?? new Set<string>();
      keys.add(templateKey(g.template));
      keys.add(`${g.template.guest}@`);
      provides.set(g.template.guest, keys);
    }
  }
  return pending.map((g, order) => buildRequest(state, g, order, [...(provides.get(g.name) ?? [])].sort()));
}

function buildRequest(state: ClusterState, g: PendingGuest, order: number, provides: string[]): Req {
  let pinned = -1;
  if (g.node !== undefined) pinned = state.nodeIndex.get(g.node) ?? -2;

  const labelPairs = Object.entries(g.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const labels = labelPairs.length > 0 ? state.labelSet(g.labels ?? {}) : undefined;
  const groups = [...new Set(g.antiAffinity ?? [])].sort();
  const groupCounts = groups.map((name) => state.groupCountsOf(name));

  let template: TemplateReq | undefined;
  if (g.template) {
    const key = templateKey(g.template);
    template = {
      key,
      display: g.template.kind === 'file' ? g.template.file : key.endsWith('@') ? key.slice(0, -1) : key,
      file: g.template.kind === 'file',
      present: state.templateOf(key),
    };
  }

  const disks: DiskReq[] = g.disks.map((d) => {
    const content = g.kind === 'container' ? CONTENT_BIT.rootdir : CONTENT_BIT.images;
    if (d.storage === undefined) return { sid: -1, name: undefined, entry: null, sizeGiB: d.sizeGiB, content };
    const sid = state.storageIds.get(d.storage);
    if (sid === undefined) return { sid: -2, name: d.storage, entry: null, sizeGiB: d.sizeGiB, content };
    return { sid, name: d.storage, entry: state.storageSet(sid).entry, sizeGiB: d.sizeGiB, content };
  });

  let gpu: GpuReq | undefined;
  if (g.gpu) {
    gpu = {
      count: g.gpu.count,
      model: g.gpu.model,
      minFree: g.gpu.minFreeMemoryMiB ?? 0,
      maxUtil: g.gpu.maxUtilizationPct ?? 100,
      devices: g.gpu.devices,
      exclusive: g.gpu.exclusive,
      set: state.gpuSet(g.gpu.model),
    };
  }

  // The smallest index set that every feasible node must belong to drives the scan.
  let driver: Int32Array | null = null;
  let driverFilter = -1;
  const consider = (list: Int32Array, filter: number): void => {
    if (driver === null || list.length < driver.length) {
      driver = list;
      driverFilter = filter;
    }
  };
  if (pinned >= 0) consider(Int32Array.of(pinned), F_PINNED);
  else if (pinned === -2) consider(new Int32Array(0), F_PINNED);
  if (labels) consider(labels.list, F_LABELS);
  if (gpu) consider(gpu.set.list, F_GPU);
  for (const d of disks) {
    if (d.sid >= 0) consider(state.storageSet(d.sid).list, F_STORAGE);
    else if (d.sid === -2) consider(new Int32Array(0), F_STORAGE);
  }
  if (driver !== null && (driver as Int32Array).length === state.n) driver = null;

  const shape = [
    g.kind,
    g.cores,
    g.memoryMiB,
    pinned,
    disks.map((d) => `${d.sid}:${d.sizeGiB}:${d.content}`).join(','),
    labelPairs.map(([k, v]) => `${k}=${v}`).join(','),
    template?.key ?? '',
  ].join('\u0001');
  return {
    order,
    shape,
    guest: g,
    cores: g.cores,
    mem: g.memoryMiB,
    pinned,
    labels,
    labelPairs,
    groups,
    groupCounts,
    template,
    disks,
    gpu,
    driver,
    driverFilter,
    provides,
  };
}

/**
 * Decision order: Kahn's algorithm over template edges between pending guests, the ready set
 * ordered by (pinned first, GPU guests first, larger memory, more cores, name).
 */
export function decisionOrder(reqs: readonly Req[]): number[] {
  const index = new Map<string, number>();
  reqs.forEach((r, i) => index.set(r.guest.name, i));
  const indegree = new Int32Array(reqs.length);
  const children: number[][] = reqs.map(() => []);
  reqs.forEach((r, i) => {
    const t = r.guest.template;
    if (t?.kind !== 'guest') return;
    const p = index.get(t.guest);
    if (p === undefined || p === i) return;
    (children[p] as number[]).push(i);
    indegree[i] = (indegree[i] as number) + 1;
  });
  const less = (a: number, b: number): boolean => {
    const ra = reqs[a] as Req;
    const rb = reqs[b] as Req;
    const pa = ra.pinned !== -1 ? 1 : 0;
    const pb = rb.pinned !== -1 ? 1 : 0;
    if (pa !== pb) return pa > pb;
    const ga = ra.gpu ? 1 : 0;
    const gb = rb.gpu ? 1 : 0;
    if (ga !== gb) return ga > gb;
    if (ra.mem !== rb.mem) return ra.mem > rb.mem;
    if (ra.cores !== rb.cores) return ra.cores > rb.cores;
    const na = ra.guest.name;
    const nb = rb.guest.name;
    if (na !== nb) return na < nb;
    return a < b;
  };
  const heap = new MinHeap(less);
  for (let i = 0; i < reqs.length; i++) if (indegree[i] === 0) heap.push(i);
  const out: number[] = [];
  while (heap.size > 0) {
    const i = heap.pop() as number;
    out.push(i);
    for (const c of children[i] as number[]) {
      indegree[c] = (indegree[c] as number) - 1;
      if (indegree[c] === 0) heap.push(c);
    }
  }
  // A template cycle among pending guests: decide the rest anyway, in the same order.
  if (out.length < reqs.length) {
    const rest: number[] = [];
    for (let i = 0; i < reqs.length; i++) if ((indegree[i] as number) > 0) rest.push(i);
    rest.sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0));
    out.push(...rest);
  }
  return out;
}
