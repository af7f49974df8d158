/**
 * The scheduler's working copy of the view: one slot per node (sorted by name) in typed arrays,
 * indices from label, GPU model and storage to the nodes that have them, and capacity bookkeeping
 * that each placement updates in place. Built once per schedule() call.
 */
import type { ClusterView, StorageContent } from '../view/types.js';
import { nodeStatus } from '../view/liveness.js';
import { nodeUsage } from '../view/usage.js';
import { gpuModelMatches } from './model-match.js';
import type { SchedulePolicy } from './types.js';

export const CONTENT_BIT: Readonly<Record<StorageContent, number>> = {
  images: 1,
  rootdir: 2,
  iso: 4,
  vztmpl: 8,
  backup: 16,
  snippets: 32,
};

/** Nodes that satisfy one condition: a membership bitmap and the same nodes as an ascending list. */
export interface NodeSet {
  readonly member: Uint8Array;
  readonly list: Int32Array;
}

export interface GpuModelSet extends NodeSet {
  /** Per interned model id: does it match the request? */
  readonly modelOk: Uint8Array;
}

export class ClusterState {
  readonly n: number;
  readonly names: readonly string[];
  readonly nodeIndex: ReadonlyMap<string, number>;
  readonly labels: readonly Readonly<Record<string, string>>[];
  readonly up: Uint8Array;
  readonly hasGpu: Uint8Array;

  readonly cpuCap: Float64Array;
  readonly cpuUsed: Float64Array;
  readonly invCpuCap: Float64Array;
  readonly memCap: Float64Array;
  readonly memUsed: Float64Array;
  readonly invMemCap: Float64Array;

  /** Storage entries of node n are stStart[n] .. stStart[n]+stCount[n]-1. */
  readonly stStart: Int32Array;
  readonly stCount: Int32Array;
  readonly stId: Int32Array;
  readonly stSlot: Int32Array;
  readonly stContent: Int32Array;
  /** Capacity slots: one per local storage, one per shared storage id across nodes. */
  readonly slotTotal: Float64Array;
  readonly slotFree: Float64Array;
  readonly invSlotTotal: Float64Array;
  /** 1 for a shared storage (one pool seen from several nodes). */
  readonly slotShared: Uint8Array;
  /** Per slot: bumped whenever its free space changes (used for shared slots). */
  readonly slotEpoch: Int32Array;
  /** Per node: the content types its own (not shared) storages offer, as CONTENT_BIT flags. */
  readonly localContent: Int32Array;
  /** Content types for which some node has no storage of its own (and so may use a shared one). */
  readonly sharedFallback: number;
  /**
   * 1 / the mean capacity of each resource. A node's (or storage's) term in the objective is
   * weighted by its capacity over the mean, so placements are judged by utilisation in percent:
   * a big pool is not filled first just because a guest is a small part of it.
   */
  readonly invMeanCpu: number;
  readonly invMeanMem: number;
  readonly invMeanSlot: number;
  readonly invMeanGpu: number;
  readonly storageNames: readonly string[];
  readonly storageIds: ReadonlyMap<string, number>;

  /** GPU entries of node n are gStart[n] .. gStart[n]+gCount[n]-1. */
  readonly gStart: Int32Array;
  readonly gCount: Int32Array;
  readonly gIndex: Int32Array;
  readonly gModel: Int32Array;
  readonly gMemTotal: Float64Array;
  readonly gMemFree: Float64Array;
  readonly gUtil: Float64Array;
  readonly gUsers: Int32Array;
  readonly gExclusive: Uint8Array;
  readonly nodeGpuTotal: Float64Array;
  readonly nodeGpuFree: Float64Array;
  readonly models: readonly string[];

  /** Guests per anti-affinity group per node. */
  readonly groupCounts = new Map<string, Int32Array>();
  /** Template key (`name@snapshot`, `name@`, `file:<file>`) → nodes that have it. */
  readonly templatePresence = new Map<string, Uint8Array>();
  readonly templateNodeCount = new Map<string, number>();

  private readonly labelSets = new Map<string, NodeSet>();
  private readonly storageSets = new Map<number, NodeSet & { readonly entry: Int32Array }>();
  private readonly gpuSets = new Map<string, GpuModelSet>();
  readonly all: NodeSet;

  /**
   * Interchangeable nodes. Nodes that no placement of this run has touched and that look the
   * same to every filter and to the score (capacity, use, labels, storages, GPUs, groups,
   * templates) are in one class; a full scan needs to look at only the first untouched node of
   * each class, plus every touched node. Ties go to the lower index either way, so the result is
   * the same as scanning every node.
   */
  readonly classOf: Int32Array;
  readonly classMembers: readonly Int32Array[];
  /** Per class: position in classMembers of its first untouched node, and how many are untouched. */
  readonly classNext: Int32Array;
  readonly classPristine: Int32Array;
  readonly touched: Uint8Array;
  touchedList: Int32Array;
  touchedCount = 0;

  constructor(view: ClusterView, policy: SchedulePolicy) {
    const nodes = view.nodes;
    const n = nodes.length;
    this.n = n;
    this.names = nodes.map((x) => x.name);
    this.nodeIndex = new Map(this.names.map((name, i) => [name, i]));
    this.labels = nodes.map((x) => x.labels);
    this.up = new Uint8Array(n);
    this.hasGpu = new Uint8Array(n);
    this.cpuCap = new Float64Array(n);
    this.cpuUsed = new Float64Array(n);
    this.invCpuCap = new Float64Array(n);
    this.memCap = new Float64Array(n);
    this.memUsed = new Float64Array(n);
    this.invMemCap = new Float64Array(n);
    this.stStart = new Int32Array(n);
    this.stCount = new Int32Array(n);
    this.gStart = new Int32Array(n);
    this.gCount = new Int32Array(n);
    this.nodeGpuTotal = new Float64Array(n);
    this.nodeGpuFree = new Float64Array(n);

    let storageEntries = 0;
    let gpuEntries = 0;
    for (const node of nodes) {
      storageEntries += node.storages.filter((s) => s.active).length;
      gpuEntries += node.gpus.length;
    }
    this.stId = new Int32Array(storageEntries);
    this.stSlot = new Int32Array(storageEntries);
    this.stContent = new Int32Array(storageEntries);
    this.gIndex = new Int32Array(gpuEntries);
    this.gModel = new Int32Array(gpuEntries);
    this.gMemTotal = new Float64Array(gpuEntries);
    this.gMemFree = new Float64Array(gpuEntries);
    this.gUtil = new Float64Array(gpuEntries);
    this.gUsers = new Int32Array(gpuEntries);
    this.gExclusive = new Uint8Array(gpuEntries);

    const storageIds = new Map<string, number>();
    const storageNames: string[] = [];
    const slotTotal: number[] = [];
    const slotFree: number[] = [];
    const sharedSlots = new Map<string, number>();
    const modelIds = new Map<string, number>();
    const models: string[] = [];

    let se = 0;
    let ge = 0;
    nodes.forEach((node, i) => {
      const usage = nodeUsage(node);
      this.up[i] = nodeStatus(view, node) === 'up' ? 1 : 0;
      const cpuCap = Math.max(0, node.cpu.cores - node.cpu.reservedCores) * policy.overcommit.cpu;
      const memCap = Math.max(0, node.memory.totalMiB - node.memory.reservedMiB) * policy.overcommit.memory;
      this.cpuCap[i] = cpuCap;
      this.memCap[i] = memCap;
      this.invCpuCap[i] = cpuCap > 0 ? 1 / cpuCap : 0;
      this.invMemCap[i] = memCap > 0 ? 1 / memCap : 0;
      this.cpuUsed[i] = usage.allocatedCores;
      this.memUsed[i] = usage.allocatedMemoryMiB;

      this.stStart[i] = se;
      for (const s of node.storages) {
        if (!s.active) continue;
        let id = storageIds.get(s.id);
        if (id === undefined) {
          id = storageNames.length;
          storageIds.set(s.id, id);
          storageNames.push(s.id);
        }
        let slot: number;
        const shared = s.shared ? sharedSlots.get(s.id) : undefined;
        if (shared !== undefined) {
          slot = shared;
        } else {
          slot = slotTotal.length;
          slotTotal.push(s.totalGiB);
          slotFree.push(s.freeGiB);
          if (s.shared) sharedSlots.set(s.id, slot);
        }
        this.stId[se] = id;
        this.stSlot[se] = slot;
        this.stContent[se] = s.content.reduce((m, c) => m | CONTENT_BIT[c], 0);
        se++;
      }
      this.stCount[i] = se - (this.stStart[i] as number);

      this.gStart[i] = ge;
      for (const g of node.gpus) {
        let mid = modelIds.get(g.model);
        if (mid === undefined) {
          mid = models.length;
          modelIds.set(g.model, mid);
          models.push(g.model);
        }
        const use = usage.gpuUsers.get(g.index);
        this.gIndex[ge] = g.index;
        this.gModel[ge] = mid;
        this.gMemTotal[ge] = g.memoryTotalMiB;
        this.gMemFree[ge] = g.memoryFreeMiB;
        this.gUtil[ge] = g.utilizationPct;
        this.gUsers[ge] = use?.users ?? 0;
        this.gExclusive[ge] = use?.exclusive ? 1 : 0;
        this.nodeGpuTotal[i] = (this.nodeGpuTotal[i] as number) + g.memoryTotalMiB;
        this.nodeGpuFree[i] = (this.nodeGpuFree[i] as number) + (use?.exclusive ? 0 : g.memoryFreeMiB);
        ge++;
      }
      this.gCount[i] = ge - (this.gStart[i] as number);
      this.hasGpu[i] = node.gpus.length > 0 ? 1 : 0;

      for (const guest of node.guests) {
        if (guest.template) continue;
        for (const group of guest.groups) {
          const counts = this.groupCountsOf(group);
          counts[i] = (counts[i] as number) + 1;
        }
      }
      for (const key of usage.templateKeys) this.markTemplate(key, i);
      for (const file of node.osTemplates) this.markTemplate(`file:${file}`, i);
    });

    this.storageIds = storageIds;
    this.storageNames = storageNames;
    this.slotTotal = Float64Array.from(slotTotal);
    this.slotFree = Float64Array.from(slotFree);
    this.invSlotTotal = Float64Array.from(slotTotal, (t) => (t > 0 ? 1 / t : 0));
    this.slotShared = new Uint8Array(slotTotal.length);
    for (const slot of sharedSlots.values()) this.slotShared[slot] = 1;
    this.slotEpoch = new Int32Array(slotTotal.length);
    this.localContent = new Int32Array(n);
    let fallback = 0;
    for (let i = 0; i < n; i++) {
      let local = 0;
      let shared = 0;
      const s0 = this.stStart[i] as number;
      for (let x = s0; x < s0 + (this.stCount[i] as number); x++) {
        if (this.slotShared[this.stSlot[x] as number] === 1) shared |= this.stContent[x] as number;
        else local |= this.stContent[x] as number;
      }
      this.localContent[i] = local;
      fallback |= shared & ~local;
    }
    this.sharedFallback = fallback;
    const mean = (xs: ArrayLike<number>): number => {
      let sum = 0;
      let count = 0;
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i] as number;
        if (x > 0) {
          sum += x;
          count++;
        }
      }
      return count > 0 ? sum / count : 0;
    };
    const inv = (x: number): number => (x > 0 ? 1 / x : 0);
    this.invMeanCpu = inv(mean(this.cpuCap));
    this.invMeanMem = inv(mean(this.memCap));
    this.invMeanSlot = inv(mean(this.slotTotal));
    this.invMeanGpu = inv(mean(this.nodeGpuTotal));
    this.models = models;
    const allList = new Int32Array(n);
    for (let i = 0; i < n; i++) allList[i] = i;
    this.all = { member: new Uint8Array(n).fill(1), list: allList };

    const classIds = new Map<string, number>();
    const members: number[][] = [];
    this.classOf = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const sig = this.signature(i, nodes[i]?.guests ?? []);
      let c = classIds.get(sig);
      if (c === undefined) {
        c = members.length;
        classIds.set(sig, c);
        members.push([]);
      }
      this.classOf[i] = c;
      (members[c] as number[]).push(i);
    }
    this.classMembers = members.map((m) => Int32Array.from(m));
    this.classNext = new Int32Array(members.length);
    this.classPristine = Int32Array.from(members, (m) => m.length);
    this.touched = new Uint8Array(n);
    this.touchedList = new Int32Array(Math.min(n, 1024));
  }

  /** Everything about node i that a filter or the score reads. */
  private signature(i: number, guests: readonly { readonly template: boolean; readonly groups: readonly string[] }[]): string {
    const parts: (string | number)[] = [
      this.up[i] as number,
      this.cpuCap[i] as number,
      this.cpuUsed[i] as number,
      this.memCap[i] as number,
      this.memUsed[i] as number,
    ];
    const labels = this.labels[i] as Readonly<Record<string, string>>;
    for (const k of Object.keys(labels).sort()) parts.push(`L${k}=${labels[k]}`);
    const ss = this.stStart[i] as number;
    for (let x = ss; x < ss + (this.stCount[i] as number); x++) {
      const slot = this.stSlot[x] as number;
      parts.push(`S${this.stId[x]}:${this.stContent[x]}:${this.slotTotal[slot]}:${this.slotFree[slot]}`);
      // a shared slot is one pool: nodes on it stay alike as it drains
      if (this.sharedSlot(slot)) parts.push(`s${slot}`);
    }
    const gs = this.gStart[i] as number;
    for (let x = gs; x < gs + (this.gCount[i] as number); x++) {
      parts.push(
        `G${this.gIndex[x]}:${this.gModel[x]}:${this.gMemTotal[x]}:${this.gMemFree[x]}:${this.gUtil[x]}:${this.gUsers[x]}:${this.gExclusive[x]}`,
      );
    }
    const groups = new Map<string, number>();
    for (const g of guests) if (!g.template) for (const name of g.groups) groups.set(name, (groups.get(name) ?? 0) + 1);
    for (const k of [...groups.keys()].sort()) parts.push(`A${k}=${groups.get(k)}`);
    const keys: string[] = [];
    for (const [key, present] of this.templatePresence) if (present[i] === 1) keys.push(key);
    for (const k of keys.sort()) parts.push(`T${k}`);
    return parts.join('\u0001');
  }

  private sharedSlot(slot: number): boolean {
    return this.slotShared[slot] === 1;
  }

  /** Records that a placement changed node i: it leaves its class of interchangeable nodes. */
  touch(i: number): void {
    if (this.touched[i] === 1) return;
    this.touched[i] = 1;
    if (this.touchedCount === this.touchedList.length) {
      const grown = new Int32Array(Math.min(this.n, this.touchedList.length * 2));
      grown.set(this.touchedList);
      this.touchedList = grown;
    }
    this.touchedList[this.touchedCount++] = i;
    const c = this.classOf[i] as number;
    this.classPristine[c] = (this.classPristine[c] as number) - 1;
    const m = this.classMembers[c] as Int32Array;
    let p = this.classNext[c] as number;
    while (p < m.length && this.touched[m[p] as number] === 1) p++;
    this.classNext[c] = p;
  }

  groupCountsOf(group: string): Int32Array {
    let counts = this.groupCounts.get(group);
    if (!counts) {
      counts = new Int32Array(this.n);
      this.groupCounts.set(group, counts);
    }
    return counts;
  }

  templateOf(key: string): Uint8Array {
    let p = this.templatePresence.get(key);
    if (!p) {
      p = new Uint8Array(this.n);
      this.templatePresence.set(key, p);
    }
    return p;
  }

  /**
   * Template presence has two sources: natural (in the view, or a template guest placed on the node
   * by this run) and planned copies, counted per user so a copy disappears with its last clone.
   */
  private readonly natural = new Map<string, Uint8Array>();
  private readonly copyUsers = new Map<string, Int32Array>();

  private setPresent(key: string, node: number, on: boolean): void {
    const p = this.templateOf(key);
    if ((p[node] === 1) === on) return;
    p[node] = on ? 1 : 0;
    const before = this.templateNodeCount.get(key) ?? 0;
    this.templateNodeCount.set(key, before + (on ? 1 : -1));
    // a template now on some node (or on none) can change the verdict of every node for its clones
    if (before === 0 || (before === 1 && !on)) this.templateEpoch.set(key, (this.templateEpoch.get(key) ?? 0) + 1);
  }

  /** Bumped when a template appears on its first node or leaves its last one. */
  readonly templateEpoch = new Map<string, number>();

  isNatural(key: string, node: number): boolean {
    return this.natural.get(key)?.[node] === 1;
  }

  /** The template is on the node for real: in the view, or its template guest is placed there. */
  markTemplate(key: string, node: number): void {
    let n = this.natural.get(key);
    if (!n) {
      n = new Uint8Array(this.n);
      this.natural.set(key, n);
    }
    n[node] = 1;
    this.setPresent(key, node, true);
  }

  /** A clone of `key` goes to `node`; returns true when it relies on a (new or shared) copy. */
  useTemplate(key: string, node: number): boolean {
    if (this.isNatural(key, node)) return false;
    let u = this.copyUsers.get(key);
    if (!u) {
      u = new Int32Array(this.n);
      this.copyUsers.set(key, u);
    }
    u[node] = (u[node] as number) + 1;
    this.setPresent(key, node, true);
    return true;
  }

  /** Undoes useTemplate() for a clone that relied on a copy. */
  releaseTemplate(key: string, node: number): void {
    const u = this.copyUsers.get(key);
    if (!u || (u[node] as number) <= 0) return;
    u[node] = (u[node] as number) - 1;
    if (u[node] === 0 && !this.isNatural(key, node)) this.setPresent(key, node, false);
  }

  /** Nodes carrying every label of `labels`; cached by the label set. */
  labelSet(labels: Readonly<Record<string, string>>): NodeSet {
    const pairs = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = pairs.map(([k, v]) => `${k}=${v}`).join('\u0000');
    let set = this.labelSets.get(key);
    if (!set) {
      const member = new Uint8Array(this.n);
      const list: number[] = [];
      for (let i = 0; i < this.n; i++) {
        const l = this.labels[i] as Readonly<Record<string, string>>;
        if (pairs.every(([k, v]) => Object.hasOwn(l, k) && l[k] === v)) {
          member[i] = 1;
          list.push(i);
        }
      }
      set = { member, list: Int32Array.from(list) };
      this.labelSets.set(key, set);
    }
    return set;
  }

  /** Nodes with the storage, and for each node the entry index (-1 when absent). */
  storageSet(id: number): NodeSet & { readonly entry: Int32Array } {
    let set = this.storageSets.get(id);
    if (!set) {
      const member = new Uint8Array(this.n);
      const entry = new Int32Array(this.n).fill(-1);
      const list: number[] = [];
      for (let i = 0; i < this.n; i++) {
        const s = this.stStart[i] as number;
        const e = s + (this.stCount[i] as number);
        for (let k = s; k < e; k++) {
          if (this.stId[k] === id) {
            entry[i] = k;
            member[i] = 1;
            list.push(i);
            break;
          }
        }
      }
      set = { member, entry, list: Int32Array.from(list) };
      this.storageSets.set(id, set);
    }
    return set;
  }

  /** Nodes with at least one GPU whose model matches (any GPU when model is undefined). */
  gpuSet(model: string | undefined): GpuModelSet {
    const key = model ?? '\u0000any';
    let set = this.gpuSets.get(key);
    if (!set) {
      const modelOk = new Uint8Array(this.models.length);
      this.models.forEach((m, i) => {
        modelOk[i] = model === undefined || gpuModelMatches(model, m) ? 1 : 0;
      });
      const member = new Uint8Array(this.n);
      const list: number[] = [];
      for (let i = 0; i < this.n; i++) {
        const s = this.gStart[i] as number;
        const e = s + (this.gCount[i] as number);
        for (let k = s; k < e; k++) {
          if (modelOk[this.gModel[k] as number] === 1) {
            member[i] = 1;
            list.push(i);
            break;
          }
        }
      }
      set = { member, list: Int32Array.from(list), modelOk };
      this.gpuSets.set(key, set);
    }
    return set;
  }
}
