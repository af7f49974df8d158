/**
 * schedule(view, pending, policy): a pure, deterministic placement of pending guests.
 *
 * Filters, checked for every node in this order: pinned, node-down, labels, anti-affinity,
 * template, cpu, memory, storage, gpu. A feasible node's score is what the placement adds to the
 * plan's objective
 *
 *   J = ± Σ weight·(capacity / mean capacity)·utilisation² / Σ weights
 *       − templateCopyCost·(template copies) − gpuNodePenalty·(guests without GPUs on GPU nodes)
 *
 * over cpu and memory per node, GPU memory per GPU node and every storage (+ for binpack, which
 * fills the fullest node that fits; − for spread, which takes the emptiest, both by utilisation
 * in percent). Ties go to the first node by name.
 *
 * 1. Greedy: guests in decision order (template parents before clones, then pinned, GPU and large
 *    guests first) each take their best node.
 * 2. Improvement, within a budget of node evaluations: every guest that may move (not pinned, not a
 *    template guest of others) moves to its best node given all the others, until none gains;
 *    unplaced guests take room freed by moving one guest away; and for a small batch an exact
 *    branch-and-bound search finds the best assignment. J is a potential: a guest's score change is
 *    exactly J's, so each move improves the plan and the end state is one where no guest would move.
 *
 * explain() reports for one guest, with every other guest where the plan puts it, the verdict of
 * every node; its chosen node is the best feasible one unless the guest is pinned or a template
 * guest (those stay where they were first put).
 *
 * Speed: node sets (labels, GPU model, storage) restrict scans to the nodes that can qualify;
 * untouched interchangeable nodes are looked at once per class; capacity lives in typed arrays;
 * messages with numbers are only built for explain(), detail: 'nodes' and unplaced guests.
 */
import { InvalidArgumentError } from '@phoenix/shared';
import type { ClusterView } from '../view/types.js';
import {
  buildRequests,
  decisionOrder,
  FILTER_COUNT,
  F_ANTI,
  F_CPU,
  F_DOWN,
  F_GPU,
  F_LABELS,
  F_MEMORY,
  F_PINNED,
  F_STORAGE,
  F_TEMPLATE,
  type Req,
} from './requests.js';
import { ClusterState } from './state.js';
import {
  FILTERS,
  type Decision,
  type Explanation,
  type FilterName,
  type NodeVerdict,
  type PendingGuest,
  type Placement,
  type ScheduleOptions,
  type SchedulePolicy,
  type ScheduleResult,
  type Unplaced,
} from './types.js';

const FEASIBLE = -1;
/** Node evaluations the improvement phase may spend (about 0.1–0.3 s). */
export const DEFAULT_IMPROVE_BUDGET = 3_000_000;
/** Batches of at most this many movable guests are also searched exactly (within the budget). */
const EXACT_MAX_GUESTS = 10;
/** Evaluations always allowed for settling after the exact search. */
const SETTLE_BUDGET = 200_000;
const GAIN = 1e-9;

export function schedule(
  view: ClusterView,
  pending: readonly PendingGuest[],
  policy: SchedulePolicy,
  options: ScheduleOptions = {},
): ScheduleResult {
  return new Run(view, pending, policy, options).run(undefined).result;
}

/**
 * Why `guest` goes where it goes: the whole plan is made as by schedule(), then every node is
 * judged for the guest with all other guests in their planned places.
 */
export function explain(
  view: ClusterView,
  pending: readonly PendingGuest[],
  policy: SchedulePolicy,
  guest: string,
  options: Omit<ScheduleOptions, 'detail'> = {},
): Explanation {
  if (!pending.some((g) => g.name === guest)) {
    throw new InvalidArgumentError('guest', guest, 'not among the guests to place');
  }
  const out = new Run(view, pending, policy, options).run(guest);
  const decision = out.result.reasons.get(guest) as Decision;
  return { guest, decision, nodes: out.explained ?? [] };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 && x > 0 ? 1 : 0)}%`;
}
function num(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

/**
 * A scan remembered for one request shape. Every node outside `nodes` scores at most `threshold`
 * or is infeasible; nodes changed since (the log after logPos) are judged again. Only valid within
 * one state epoch (see ClusterState.epoch).
 */
interface ScanCache {
  readonly nodes: number[];
  readonly scores: number[];
  threshold: number;
  logPos: number;
  readonly epoch: string;
  readonly counts: Int32Array;
  readonly feasible: number;
}

/** Nodes a scan remembers, and the most changed nodes a remembered scan is brought up to date with. */
const CACHE_NODES = 64;
const CACHE_MAX_CHANGED = 1024;

interface Snapshot {
  readonly assign: Int32Array;
  readonly disks: (Int32Array | null)[];
  readonly gpus: (Int32Array | null)[];
}

class Run {
  private readonly state: ClusterState;
  private readonly reqs: Req[];
  private readonly sign: number;
  /** 1 / Σ weights: every guest's score is on the same scale, so scores add up to J. */
  private readonly invW: number;
  private readonly counts = new Int32Array(FILTER_COUNT);
  private readonly detailAll: boolean;
  private readonly useClasses: boolean;
  private readonly useCache: boolean;
  /** Per request shape: the best nodes of its last full scan, kept current from the change log. */
  private readonly cache = new Map<string, ScanCache>();
  /** Nodes changed by commit/uncommit, in order. */
  private log = new Int32Array(1024);
  private logLen = 0;
  private readonly seen: Int32Array;
  private seenStamp = 0;
  private readonly exactSearch: boolean;
  private budget: number;
  // Scratch written by evaluate() for the node it last accepted.
  private score = 0;
  private copy = false;
  private message = '';
  private diskEntry: Int32Array = new Int32Array(4);
  private gpuPick: Int32Array = new Int32Array(8);
  private gpuPicked = 0;
  private bestScore = -Infinity;
  private readonly unplacedNames = new Set<string>();
  // Where each request stands (index into reqs).
  private readonly assign: Int32Array;
  private readonly disksOf: (Int32Array | null)[];
  private readonly gpusOf: (Int32Array | null)[];
  private readonly gpuTaken: (Float64Array | null)[];
  private readonly copyOf: Uint8Array;
  private readonly first: { feasible: number; rejected: Partial<Record<FilterName, number>> }[];

  constructor(
    view: ClusterView,
    pending: readonly PendingGuest[],
    private readonly policy: SchedulePolicy,
    options: ScheduleOptions,
  ) {
    const names = new Set<string>();
    pending.forEach((g, i) => {
      if (names.has(g.name)) throw new InvalidArgumentError(`pending.${i}.name`, g.name, 'duplicate guest name');
      names.add(g.name);
    });
    this.detailAll = options.detail === 'nodes';
    this.useClasses = options.scan !== 'every-node';
    this.useCache = options.scan !== 'every-node';
    this.budget = options.improve === false ? 0 : (options.improve?.maxEvaluations ?? DEFAULT_IMPROVE_BUDGET);
    this.exactSearch = options.improve === false ? false : (options.improve?.exactSearch ?? true);
    this.state = new ClusterState(view, policy);
    this.reqs = buildRequests(this.state, pending);
    this.seen = new Int32Array(this.state.n);
    this.sign = policy.strategy === 'binpack' ? 1 : -1;
    const w = policy.weights;
    const wsum = w.cpu + w.memory + w.gpu + w.storage;
    // weights that add up to (almost) nothing leave only the penalties
    this.invW = wsum > 1e-9 ? 1 / wsum : 0;
    const r = this.reqs.length;
    this.assign = new Int32Array(r).fill(-1);
    this.disksOf = new Array<Int32Array | null>(r).fill(null);
    this.gpusOf = new Array<Int32Array | null>(r).fill(null);
    this.gpuTaken = new Array<Float64Array | null>(r).fill(null);
    this.copyOf = new Uint8Array(r);
    this.first = new Array(r);
  }

  run(explainGuest: string | undefined): { result: ScheduleResult; explained?: NodeVerdict[] } {
    const order = decisionOrder(this.reqs);
    for (const i of order) {
      const req = this.reqs[i] as Req;
      const best = this.scan(req);
      this.first[i] = { feasible: this.fastFeasible, rejected: countsRecord(this.counts) };
      if (best >= 0) {
        this.evaluate(req, best, false);
        this.commit(i, best);
      }
    }
    this.improve(order);

    for (const i of order) if (this.assign[i] === -1) this.unplacedNames.add((this.reqs[i] as Req).guest.name);
    const placements: Placement[] = [];
    const unplaced: Unplaced[] = [];
    const reasons = new Map<string, Decision>();
    let explained: NodeVerdict[] | undefined;
    for (const i of order) {
      const req = this.reqs[i] as Req;
      const name = req.guest.name;
      const node = this.assign[i] as number;
      const wantVerdicts = this.detailAll || name === explainGuest;
      let verdicts: NodeVerdict[] | undefined;
      if (node >= 0) {
        // the guest's score with every other guest in its final place; the plan itself is not changed
        const held = this.lift(i);
        if (wantVerdicts) {
          verdicts = this.allVerdicts(req).map((v) =>
            v.node === this.state.names[node] ? { ...v, verdict: 'chosen' as const, score: round(held.score) } : v,
          );
        }
        this.putBack(i, held);
        this.score = held.score;
        const placement = this.placementOf(i);
        placements.push(placement);
        const first = this.first[i] as (typeof this.first)[number];
        reasons.set(name, { guest: name, node: placement.node, score: placement.score, feasible: first.feasible, rejected: first.rejected, nodes: this.detailAll ? verdicts : undefined });
      } else {
        if (wantVerdicts) verdicts = this.allVerdicts(req);
        const miss = this.unplacedReason(req);
        unplaced.push(miss);
        reasons.set(name, { guest: name, node: undefined, score: undefined, feasible: 0, rejected: miss.rejected, nodes: this.detailAll ? verdicts : undefined });
      }
      if (name === explainGuest && verdicts) explained = [...verdicts].sort(verdictOrder);
    }
    return explained ? { result: { placements, unplaced, reasons }, explained } : { result: { placements, unplaced, reasons } };
  }

  private placementOf(i: number): Placement {
    const st = this.state;
    const req = this.reqs[i] as Req;
    const node = this.assign[i] as number;
    const disks = this.disksOf[i];
    const gpus = this.gpusOf[i];
    return {
      guest: req.guest.name,
      node: st.names[node] as string,
      score: round(this.score),
      storages: disks ? Array.from(disks, (e) => st.storageNames[st.stId[e] as number] as string) : [],
      gpus: gpus ? Array.from(gpus, (e) => st.gIndex[e] as number).sort((a, b) => a - b) : [],
      templateCopy: this.copyOf[i] === 1,
    };
  }

  /** The best node for `req` in the current state (-1 if none); this.counts and this.bestScore filled. */
  private scan(req: Req): number {
    const st = this.state;
    const counts = this.counts;
    counts.fill(0);
    const drv = req.driver;
    if (drv !== null) counts[req.driverFilter] = st.n - drv.length;
    if (req.gpu === undefined && req.disks.every((d) => d.sid !== -2)) {
      const best = this.scanFast(req);
      this.bestScore = this.fastBest;
      return best;
    }
    let best = -1;
    let bestScore = -Infinity;
    let feasible = 0;
    const len = drv !== null ? drv.length : st.n;
    this.budget -= len;
    for (let k = 0; k < len; k++) {
      const node = drv !== null ? (drv[k] as number) : k;
      const f = this.evaluate(req, node, false);
      if (f !== FEASIBLE) counts[f] = (counts[f] as number) + 1;
      else {
        feasible++;
        if (this.score > bestScore) {
          bestScore = this.score;
          best = node;
        }
      }
    }
    this.fastFeasible = feasible;
    this.bestScore = bestScore;
    return best;
  }

  // ---- improvement ------------------------------------------------------------------------------

  private improve(order: readonly number[]): void {
    const movable = order.filter((i) => {
      const r = this.reqs[i] as Req;
      return r.provides.length === 0 && r.pinned === -1;
    });
    if (movable.length > 0) {
      this.localSearch(movable);
      if (this.exactSearch && movable.length <= EXACT_MAX_GUESTS && this.budget > 0) {
        this.exact(movable);
        // a search cut short by the budget may stop off a local optimum: settle it (few guests, cheap)
        this.budget = Math.max(this.budget, SETTLE_BUDGET);
        this.localSearch(movable);
      }
    }
    // Whatever the budget left undone, an unplaced guest must not fit anywhere in the final plan.
    for (const i of order) if (this.assign[i] === -1) this.tryPlace(i);
  }

  private localSearch(movable: readonly number[]): void {
    let changed = true;
    while (changed && this.budget > 0) {
      changed = false;
      for (const i of movable) {
        if (this.budget <= 0) break;
        if (this.assign[i] === -1 ? this.tryPlace(i) : this.relocate(i)) changed = true;
      }
      for (const i of movable) {
        if (this.budget <= 0) break;
        if (this.assign[i] === -1 && this.eject(i, movable)) changed = true;
      }
    }
  }

  /** Moves guest i to its best node if that gains anything. */
  private relocate(i: number): boolean {
    const req = this.reqs[i] as Req;
    const held = this.lift(i);
    const best = this.scan(req);
    if (best >= 0 && this.bestScore > held.score + GAIN) {
      this.evaluate(req, best, false);
      this.commit(i, best);
      return true;
    }
    this.putBack(i, held);
    return false;
  }

  private tryPlace(i: number): boolean {
    const req = this.reqs[i] as Req;
    const best = this.scan(req);
    if (best < 0) return false;
    this.evaluate(req, best, false);
    this.commit(i, best);
    return true;
  }

  /** Places unplaced guest u on a node by moving one guest from there to its best other node. */
  private eject(u: number, movable: readonly number[]): boolean {
    const st = this.state;
    const req = this.reqs[u] as Req;
    const drv = req.driver;
    const len = drv !== null ? drv.length : st.n;
    // the movable guests of each node, in decision order
    const on = new Map<number, number[]>();
    this.budget -= movable.length;
    for (const g of movable) {
      const node = this.assign[g] as number;
      if (node < 0) continue;
      const list = on.get(node);
      if (list) list.push(g);
      else on.set(node, [g]);
    }
    for (let k = 0; k < len && this.budget > 0; k++) {
      const node = drv !== null ? (drv[k] as number) : k;
      for (const g of on.get(node) ?? []) {
        if (this.budget <= 0) break;
        this.budget -= 2;
        const other = this.reqs[g] as Req;
        const held = this.lift(g);
        if (this.evaluate(req, node, false) === FEASIBLE) {
          this.commit(u, node);
          const m = this.scan(other);
          if (m >= 0) {
            this.evaluate(other, m, false);
            this.commit(g, m);
            return true;
          }
          this.uncommit(u);
        }
        this.putBack(g, held);
      }
    }
    return false;
  }

  private snapshot(list: readonly number[]): Snapshot {
    return {
      assign: Int32Array.from(list, (i) => this.assign[i] as number),
      disks: list.map((i) => this.disksOf[i] ?? null),
      gpus: list.map((i) => this.gpusOf[i] ?? null),
    };
  }

  /** J, the plan's objective, from scratch (see the file comment). */
  private objective(): number {
    const st = this.state;
    const w = this.policy.weights;
    let quad = 0;
    for (let n = 0; n < st.n; n++) {
      const uc = (st.cpuUsed[n] as number) * (st.invCpuCap[n] as number);
      const um = (st.memUsed[n] as number) * (st.invMemCap[n] as number);
      quad += w.cpu * (st.cpuCap[n] as number) * st.invMeanCpu * uc * uc + w.memory * (st.memCap[n] as number) * st.invMeanMem * um * um;
      const gt = st.nodeGpuTotal[n] as number;
      if (gt > 0) {
        const ug = 1 - (st.nodeGpuFree[n] as number) / gt;
        quad += w.gpu * gt * st.invMeanGpu * ug * ug;
      }
    }
    for (let s = 0; s < st.slotTotal.length; s++) {
      const inv = st.invSlotTotal[s] as number;
      if (inv > 0) {
        const us = 1 - (st.slotFree[s] as number) * inv;
        quad += w.storage * (st.slotTotal[s] as number) * st.invMeanSlot * us * us;
      }
    }
    let penalty = 0;
    const copies = new Set<string>();
    this.reqs.forEach((r, i) => {
      const node = this.assign[i] as number;
      if (node < 0) return;
      if (this.copyOf[i] === 1 && r.template) copies.add(`${r.template.key}\u0000${node}`);
      if (r.gpu === undefined && st.hasGpu[node] === 1) penalty += this.policy.gpuNodePenalty;
    });
    penalty += copies.size * this.policy.templateCopyCost;
    return this.sign * quad * this.invW - penalty;
  }

  /**
   * Branch and bound over the movable guests of a small batch, the others fixed: most guests
   * placed first, then the largest J. Starts from the current plan and keeps it unless a strictly
   * better one is found within the budget.
   */
  private exact(list: readonly number[]): void {
    const incumbent = this.snapshot(list);
    const placedNow = incumbent.assign.reduce((a, n) => a + (n >= 0 ? 1 : 0), 0);
    let bestPlaced = placedNow;
    let bestJ = this.objective();
    let best: Snapshot | undefined;
    for (let k = list.length - 1; k >= 0; k--) if (this.assign[list[k] as number] !== -1) this.uncommit(list[k] as number);
    const baseJ = this.objective();
    const n = this.state.n;
    const scores = new Float64Array(n);
    const nodes: number[][] = list.map(() => []);
    const walk = (k: number, placed: number, j: number): void => {
      if (this.budget <= 0) return;
      if (placed + (list.length - k) < bestPlaced) return;
      if (k === list.length) {
        if (placed > bestPlaced || (placed === bestPlaced && j > bestJ + GAIN)) {
          bestPlaced = placed;
          bestJ = j;
          best = this.snapshot(list);
        }
        return;
      }
      const i = list[k] as number;
      const req = this.reqs[i] as Req;
      const options = nodes[k] as number[];
      options.length = 0;
      this.budget -= n;
      for (let node = 0; node < n; node++) {
        if (this.evaluate(req, node, false) === FEASIBLE) {
          scores[node] = this.score;
          options.push(node);
        }
      }
      options.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
      const tried = [...options];
      const tryScores = tried.map((node) => scores[node] as number);
      tried.forEach((node, x) => {
        if (this.budget <= 0) return;
        this.evaluate(req, node, false);
        this.commit(i, node);
        walk(k + 1, placed + 1, j + (tryScores[x] as number));
        this.uncommit(i);
      });
      walk(k + 1, placed, j);
    };
    walk(0, 0, baseJ);
    this.restore(list, best ?? incumbent);
  }

  /** Puts the guests of `list` exactly where `s` has them (with the same storages and GPUs). */
  private restore(list: readonly number[], s: Snapshot): void {
    for (let k = list.length - 1; k >= 0; k--) if (this.assign[list[k] as number] !== -1) this.uncommit(list[k] as number);
    list.forEach((i, k) => {
      const node = s.assign[k] as number;
      if (node >= 0) this.putBack(i, { node, disks: s.disks[k] ?? new Int32Array(0), gpus: s.gpus[k] ?? new Int32Array(0) });
    });
  }

  // ---- bookkeeping ------------------------------------------------------------------------------

  /**
   * A number that changes whenever something outside the changed nodes can alter the request's
   * verdicts: its template appearing or vanishing, or a shared storage it may use filling up.
   */
  private epochOf(req: Req): string {
    const st = this.state;
    let key = req.template ? String(st.templateEpoch.get(req.template.key) ?? 0) : '';
    for (const d of req.disks) {
      if (d.sid >= 0) {
        const set = d.entry as Int32Array;
        // the slot of an explicit shared storage is the same on every node that has it
        const list = st.storageSet(d.sid).list;
        const slot = list.length > 0 ? (st.stSlot[set[list[0] as number] as number] as number) : -1;
        if (slot >= 0 && st.slotShared[slot] === 1) key += `,${slot}:${st.slotEpoch[slot]}`;
      } else if ((st.sharedFallback & d.content) !== 0) {
        for (let slot = 0; slot < st.slotShared.length; slot++) {
          if (st.slotShared[slot] === 1) key += `,${slot}:${st.slotEpoch[slot]}`;
        }
      }
    }
    return key;
  }

  private logChange(node: number, disks: Int32Array): void {
    const st = this.state;
    if (this.logLen === this.log.length) {
      const grown = new Int32Array(this.log.length * 2);
      grown.set(this.log);
      this.log = grown;
    }
    this.log[this.logLen++] = node;
    for (let k = 0; k < disks.length; k++) {
      const slot = st.stSlot[disks[k] as number] as number;
      if (st.slotShared[slot] === 1) st.slotEpoch[slot] = (st.slotEpoch[slot] as number) + 1;
    }
  }

  /**
   * The best node for `req` from its remembered scan, or undefined when a full scan is needed.
   * Exact: the nodes changed since are judged again; any other node scores at most the threshold.
   */
  private fromCache(req: Req): number | undefined {
    const entry = this.cache.get(req.shape);
    if (entry === undefined || this.logLen - entry.logPos > CACHE_MAX_CHANGED || this.epochOf(req) !== entry.epoch) return undefined;
    const stamp = ++this.seenStamp;
    const { nodes, scores } = entry;
    for (let p = entry.logPos; p < this.logLen; p++) {
      const node = this.log[p] as number;
      if (this.seen[node] === stamp) continue;
      this.seen[node] = stamp;
      const at = nodes.indexOf(node);
      if (at >= 0) {
        nodes.splice(at, 1);
        scores.splice(at, 1);
      }
      if (this.evaluate(req, node, false, true) !== FEASIBLE || this.score <= entry.threshold) continue;
      let x = nodes.length;
      while (x > 0 && ((scores[x - 1] as number) < this.score || ((scores[x - 1] as number) === this.score && (nodes[x - 1] as number) > node))) x--;
      nodes.splice(x, 0, node);
      scores.splice(x, 0, this.score);
    }
    while (nodes.length > 2 * CACHE_NODES) {
      nodes.pop();
      entry.threshold = Math.max(entry.threshold, scores.pop() as number);
    }
    entry.logPos = this.logLen;
    this.counts.set(entry.counts);
    this.fastFeasible = entry.feasible;
    // the first listed node that anti-affinity allows
    let at = 0;
    for (; at < nodes.length; at++) {
      const node = nodes[at] as number;
      if (!req.groupCounts.some((c) => (c[node] as number) > 0)) break;
    }
    if (at === nodes.length) {
      if (entry.threshold !== -Infinity) return undefined;
      this.fastBest = -Infinity;
      return -1;
    }
    // a node outside the list may tie with it: only a full scan can break that tie
    if ((scores[at] as number) <= entry.threshold) return undefined;
    this.fastBest = scores[at] as number;
    return nodes[at] as number;
  }

  /**
   * Takes guest i off its node and returns what it held there, with its score for exactly that
   * choice of storages and GPUs (the same arithmetic as evaluate()).
   */
  private lift(i: number): { node: number; disks: Int32Array; gpus: Int32Array; taken: Float64Array; score: number } {
    const st = this.state;
    const req = this.reqs[i] as Req;
    const node = this.assign[i] as number;
    const disks = this.disksOf[i] ?? new Int32Array(0);
    const gpus = this.gpusOf[i] ?? new Int32Array(0);
    const taken = this.gpuTaken[i] ?? new Float64Array(0);
    this.uncommit(i);
    const w = this.policy.weights;
    const invCpu = st.invCpuCap[node] as number;
    const invMem = st.invMemCap[node] as number;
    const uc = (st.cpuUsed[node] as number) * invCpu;
    const dc = req.cores * invCpu;
    const um = (st.memUsed[node] as number) * invMem;
    const dm = req.mem * invMem;
    let storageScore = 0;
    for (let k = 0; k < disks.length; k++) {
      const slot = st.stSlot[disks[k] as number] as number;
      const invTotal = st.invSlotTotal[slot] as number;
      if (invTotal > 0) {
        let before = 0;
        for (let j = 0; j < k; j++) if (st.stSlot[disks[j] as number] === slot) before += (req.disks[j] as Req['disks'][number]).sizeGiB;
        const free = (st.slotFree[slot] as number) - before;
        const u = 1 - free * invTotal;
        const size = (req.disks[k] as Req['disks'][number]).sizeGiB;
        const dd = size * invTotal;
        storageScore += size * st.invMeanSlot * (2 * u + dd);
      }
    }
    let sum = w.cpu * req.cores * st.invMeanCpu * (2 * uc + dc) + w.memory * req.mem * st.invMeanMem * (2 * um + dm);
    if (req.gpu !== undefined) {
      let gpuScore = 0;
      const total = st.nodeGpuTotal[node] as number;
      if (total > 0) {
        let reserved = 0;
        for (let k = 0; k < taken.length; k++) reserved += taken[k] as number;
        const u = 1 - (st.nodeGpuFree[node] as number) / total;
        const dd = reserved / total;
        gpuScore = reserved * st.invMeanGpu * (2 * u + dd);
      }
      sum += w.gpu * gpuScore;
    }
    sum += w.storage * storageScore;
    let score = this.sign * sum * this.invW;
    if (req.template !== undefined && req.template.present[node] === 0) score -= this.policy.templateCopyCost;
    if (req.gpu === undefined && st.hasGpu[node] === 1) score -= this.policy.gpuNodePenalty;
    return { node, disks, gpus, taken, score };
  }

  /** Puts guest i back exactly as lift() found it. */
  private putBack(i: number, held: { node: number; disks: Int32Array; gpus: Int32Array }): void {
    if (this.diskEntry.length < held.disks.length) this.diskEntry = new Int32Array(held.disks.length * 2);
    this.diskEntry.set(held.disks);
    if (this.gpuPick.length < held.gpus.length) this.gpuPick = new Int32Array(held.gpus.length * 2);
    this.gpuPick.set(held.gpus);
    this.gpuPicked = held.gpus.length;
    this.commit(i, held.node);
  }

  /** Puts request i on `node` with the storage and GPU choice left in the scratch by evaluate(). */
  private commit(i: number, node: number): void {
    const st = this.state;
    const req = this.reqs[i] as Req;
    st.cpuUsed[node] = (st.cpuUsed[node] as number) + req.cores;
    st.memUsed[node] = (st.memUsed[node] as number) + req.mem;
    const disks = new Int32Array(req.disks.length);
    for (let k = 0; k < req.disks.length; k++) {
      const e = this.diskEntry[k] as number;
      disks[k] = e;
      const slot = st.stSlot[e] as number;
      st.slotFree[slot] = (st.slotFree[slot] as number) - (req.disks[k] as Req['disks'][number]).sizeGiB;
    }
    this.disksOf[i] = disks;
    this.logChange(node, disks);
    const gpu = req.gpu;
    if (gpu !== undefined) {
      const picks = Int32Array.from(this.gpuPick.subarray(0, this.gpuPicked));
      const taken = new Float64Array(picks.length);
      picks.forEach((e, k) => {
        st.gUsers[e] = (st.gUsers[e] as number) + 1;
        const amount = gpu.exclusive ? (st.gMemFree[e] as number) : gpu.minFree;
        taken[k] = amount;
        st.gMemFree[e] = (st.gMemFree[e] as number) - amount;
        st.nodeGpuFree[node] = (st.nodeGpuFree[node] as number) - amount;
        if (gpu.exclusive) st.gExclusive[e] = 1;
      });
      this.gpusOf[i] = picks;
      this.gpuTaken[i] = taken;
    }
    for (const counts of req.groupCounts) counts[node] = (counts[node] as number) + 1;
    st.touch(node);
    for (const key of req.provides) st.markTemplate(key, node);
    this.copyOf[i] = req.template !== undefined && st.useTemplate(req.template.key, node) ? 1 : 0;
    this.assign[i] = node;
  }

  /** Takes request i off its node, undoing commit(). */
  private uncommit(i: number): void {
    const st = this.state;
    const req = this.reqs[i] as Req;
    const node = this.assign[i] as number;
    if (node < 0) return;
    st.cpuUsed[node] = (st.cpuUsed[node] as number) - req.cores;
    st.memUsed[node] = (st.memUsed[node] as number) - req.mem;
    const disks = this.disksOf[i];
    if (disks) {
      for (let k = 0; k < disks.length; k++) {
        const slot = st.stSlot[disks[k] as number] as number;
        st.slotFree[slot] = (st.slotFree[slot] as number) + (req.disks[k] as Req['disks'][number]).sizeGiB;
      }
    }
    this.logChange(node, disks ?? new Int32Array(0));
    const picks = this.gpusOf[i];
    const taken = this.gpuTaken[i];
    if (picks && taken) {
      picks.forEach((e, k) => {
        st.gUsers[e] = (st.gUsers[e] as number) - 1;
        st.gMemFree[e] = (st.gMemFree[e] as number) + (taken[k] as number);
        st.nodeGpuFree[node] = (st.nodeGpuFree[node] as number) + (taken[k] as number);
        if (req.gpu?.exclusive) st.gExclusive[e] = 0;
      });
    }
    for (const counts of req.groupCounts) counts[node] = (counts[node] as number) - 1;
    if (this.copyOf[i] === 1 && req.template) st.releaseTemplate(req.template.key, node);
    this.copyOf[i] = 0;
    this.disksOf[i] = null;
    this.gpusOf[i] = null;
    this.gpuTaken[i] = null;
    this.assign[i] = -1;
  }

  private fastFeasible = 0;
  private fastBest = -Infinity;
  private chosenSlot = new Int32Array(4);
  private readonly topNodes = new Int32Array(CACHE_NODES);
  private readonly topScores = new Float64Array(CACHE_NODES);
  private visit = new Int32Array(0);
  private visitWeight = new Int32Array(0);

  /**
   * The hot loop for requests without GPUs: the same checks and the same score
   * arithmetic as evaluate(), with every array in a local. Returns the best node or -1 and leaves
   * the rejection counts in this.counts; explain() and the property tests hold the two to agreement.
   */
  private scanFast(req: Req): number {
    const st = this.state;
    const counts = this.counts;
    const policy = this.policy;
    // A full scan visits every touched node and one untouched node per class, weighted by how
    // many untouched nodes that one stands for (for the rejection counts).
    if (this.useCache) {
      const hit = this.fromCache(req);
      if (hit !== undefined) {
        this.budget -= req.driver !== null ? req.driver.length : st.n;
        return hit;
      }
    }
    let drv = req.driver;
    let weight: Int32Array | null = null;
    if (drv === null && this.useClasses) {
      const touched = st.touchedCount;
      const classes = st.classMembers.length;
      if (touched + classes < st.n) {
        if (this.visit.length < touched + classes) {
          this.visit = new Int32Array(st.n);
          this.visitWeight = new Int32Array(st.n);
        }
        const visit = this.visit;
        const vw = this.visitWeight;
        let m = 0;
        for (let t = 0; t < touched; t++) {
          visit[m] = st.touchedList[t] as number;
          vw[m++] = 1;
        }
        for (let c = 0; c < classes; c++) {
          const left = st.classPristine[c] as number;
          if (left === 0) continue;
          visit[m] = (st.classMembers[c] as Int32Array)[st.classNext[c] as number] as number;
          vw[m++] = left;
        }
        drv = visit.subarray(0, m);
        weight = vw;
      }
    }
    const len = drv !== null ? drv.length : st.n;
    const up = st.up;
    const labels = req.labels?.member;
    const groups = req.groupCounts;
    const ng = groups.length;
    const tpl = req.template;
    const tplPresent = tpl?.present;
    const tplElsewhere = tpl !== undefined && (tpl.file || (st.templateNodeCount.get(tpl.key) ?? 0) > 0);
    const copyAllowed = policy.templateCopies === 'allow';
    const copyCost = policy.templateCopyCost;
    const gpuPenalty = policy.gpuNodePenalty;
    const hasGpu = st.hasGpu;
    const cpuCap = st.cpuCap;
    const cpuUsed = st.cpuUsed;
    const invCpu = st.invCpuCap;
    const memCap = st.memCap;
    const memUsed = st.memUsed;
    const invMem = st.invMemCap;
    const stStart = st.stStart;
    const stCount = st.stCount;
    const stSlot = st.stSlot;
    const stContent = st.stContent;
    const slotFree = st.slotFree;
    const invSlotTotal = st.invSlotTotal;
    const invMeanSlot = st.invMeanSlot;
    const slotShared = st.slotShared;
    const localContent = st.localContent;
    const invMeanCpu = st.invMeanCpu;
    const invMeanMem = st.invMeanMem;
    const disks = req.disks;
    const nd = disks.length;
    if (this.chosenSlot.length < nd) this.chosenSlot = new Int32Array(nd * 2);
    const chosenSlot = this.chosenSlot;
    const cores = req.cores;
    const mem = req.mem;
    const sign = this.sign;
    const w = policy.weights;
    const wc = w.cpu;
    const wm = w.memory;
    const wstor = w.storage;
    const invWsum = this.invW;
    const pinned = req.pinned;
    let best = -1;
    let bestScore = -Infinity;
    let feasible = 0;
    // the best nodes, for the cache (not when one node stands for a class of them)
    const remember = this.useCache && weight === null;
    const topN = this.topNodes;
    const topS = this.topScores;
    let topCount = 0;
    let dropped = -Infinity;
    let rPinned = 0;
    let rDown = 0;
    let rLabels = 0;
    let rAnti = 0;
    let rTemplate = 0;
    let rCpu = 0;
    let rMemory = 0;
    let rStorage = 0;
    for (let k = 0; k < len; k++) {
      const i = drv !== null ? (drv[k] as number) : k;
      const wgt = weight !== null ? (weight[k] as number) : 1;
      if (pinned !== -1 && pinned !== i) {
        rPinned += wgt;
        continue;
      }
      if (up[i] === 0) {
        rDown += wgt;
        continue;
      }
      if (labels !== undefined && labels[i] === 0) {
        rLabels += wgt;
        continue;
      }
      // anti-affinity is checked last here, so the node still counts among the shape's best for the cache
      let anti = false;
      for (let g = 0; g < ng; g++) {
        if (((groups[g] as Int32Array)[i] as number) > 0) {
          anti = true;
          break;
        }
      }
      let copy = false;
      if (tplPresent !== undefined && tplPresent[i] === 0) {
        if (!tplElsewhere || !copyAllowed) {
          rTemplate += wgt;
          continue;
        }
        copy = true;
      }
      const cu = cpuUsed[i] as number;
      if (cu + cores > (cpuCap[i] as number) + 1e-9) {
        rCpu += wgt;
        continue;
      }
      const mu = memUsed[i] as number;
      if (mu + mem > (memCap[i] as number) + 1e-9) {
        rMemory += wgt;
        continue;
      }
      // every disk on a storage of the node with room for it (disks on one slot add up)
      let storageScore = 0;
      let storageOk = true;
      for (let k = 0; k < nd; k++) {
        const d = disks[k] as Req['disks'][number];
        const size = d.sizeGiB;
        let entry = -1;
        let free = 0;
        if (d.sid >= 0) {
          entry = (d.entry as Int32Array)[i] as number;
          if (entry < 0) {
            storageOk = false;
            break;
          }
          const slot = stSlot[entry] as number;
          let pend = 0;
          for (let j = 0; j < k; j++) if (chosenSlot[j] === slot) pend += (disks[j] as Req['disks'][number]).sizeGiB;
          free = (slotFree[slot] as number) - pend;
          if (free + 1e-9 < size) {
            storageOk = false;
            break;
          }
        } else {
          const s = stStart[i] as number;
          const e = s + (stCount[i] as number);
          let bestGain = -Infinity;
          let bestTier = 2;
          const content = d.content;
          // a node's own storage; a shared one only on a node that has none for this content
          const wantShared = ((localContent[i] as number) & content) === 0 ? 1 : 0;
          for (let x = s; x < e; x++) {
            if (((stContent[x] as number) & content) === 0) continue;
            const slot = stSlot[x] as number;
            if (slotShared[slot] !== wantShared) continue;
            let pend = 0;
            for (let j = 0; j < k; j++) if (chosenSlot[j] === slot) pend += (disks[j] as Req['disks'][number]).sizeGiB;
            const f = (slotFree[slot] as number) - pend;
            if (f + 1e-9 < size) continue;
            // the node's own storages before shared ones, then the one that adds most to the score
            // (binpack: fullest, spread: emptiest); first wins ties
            const tier = slotShared[slot] as number;
            // ranks storages as their score term would: sign·(2u + d) = sign·(2 + (size − 2·free)/total)
            const gain = sign * ((size - 2 * f) * (invSlotTotal[slot] as number));
            if (tier < bestTier || (tier === bestTier && gain > bestGain)) {
              bestTier = tier;
              bestGain = gain;
              entry = x;
              free = f;
            }
          }
          if (entry < 0) {
            storageOk = false;
            break;
          }
        }
        const slot = stSlot[entry] as number;
        chosenSlot[k] = slot;
        const invTotal = invSlotTotal[slot] as number;
        if (invTotal > 0) {
          const u = 1 - free * invTotal;
          const dd = size * invTotal;
          storageScore += size * invMeanSlot * (2 * u + dd);
        }
      }
      if (!storageOk) {
        rStorage += wgt;
        continue;
      }
      if (anti) rAnti += wgt;
      else feasible += wgt;
      const ic = invCpu[i] as number;
      const im = invMem[i] as number;
      const uc = cu * ic;
      const dc = cores * ic;
      const um = mu * im;
      const dm = mem * im;
      let sum = wc * cores * invMeanCpu * (2 * uc + dc) + wm * mem * invMeanMem * (2 * um + dm);
      sum += wstor * storageScore;
      let score = sign * sum * invWsum;
      if (copy) score -= copyCost;
      if (hasGpu[i] === 1) score -= gpuPenalty;
      if (!anti && (score > bestScore || (score === bestScore && i < best))) {
        bestScore = score;
        best = i;
      }
      if (remember) {
        // nodes come in ascending order, so an equal score ranks after the ones already kept
        let x = -1;
        if (topCount < CACHE_NODES) x = topCount++;
        else if (score > (topS[CACHE_NODES - 1] as number)) {
          dropped = Math.max(dropped, topS[CACHE_NODES - 1] as number);
          x = CACHE_NODES - 1;
        } else if (score > dropped) dropped = score;
        if (x >= 0) {
          while (x > 0 && (topS[x - 1] as number) < score) {
            topS[x] = topS[x - 1] as number;
            topN[x] = topN[x - 1] as number;
            x--;
          }
          topS[x] = score;
          topN[x] = i;
        }
      }
    }
    counts[F_PINNED] = (counts[F_PINNED] as number) + rPinned;
    counts[F_DOWN] = (counts[F_DOWN] as number) + rDown;
    counts[F_LABELS] = (counts[F_LABELS] as number) + rLabels;
    counts[F_ANTI] = (counts[F_ANTI] as number) + rAnti;
    counts[F_TEMPLATE] = (counts[F_TEMPLATE] as number) + rTemplate;
    counts[F_CPU] = (counts[F_CPU] as number) + rCpu;
    counts[F_MEMORY] = (counts[F_MEMORY] as number) + rMemory;
    counts[F_STORAGE] = (counts[F_STORAGE] as number) + rStorage;
    if (remember) {
      this.cache.set(req.shape, {
        nodes: Array.from(topN.subarray(0, topCount)),
        scores: Array.from(topS.subarray(0, topCount)),
        threshold: dropped,
        logPos: this.logLen,
        epoch: this.epochOf(req),
        counts: Int32Array.from(counts),
        feasible,
      });
    }
    this.fastFeasible = feasible;
    this.fastBest = bestScore;
    // charged by candidate nodes, not by the nodes actually looked at: the same in both scan modes
    this.budget -= req.driver !== null ? req.driver.length : st.n;
    return best;
  }

  private allVerdicts(req: Req): NodeVerdict[] {
    const out: NodeVerdict[] = [];
    for (let node = 0; node < this.state.n; node++) {
      const f = this.evaluate(req, node, true);
      const name = this.state.names[node] as string;
      out.push(
        f === FEASIBLE
          ? { node: name, verdict: 'feasible', message: this.message, score: round(this.score) }
          : { node: name, verdict: 'rejected', filter: FILTERS[f] as FilterName, message: this.message },
      );
    }
    return out;
  }

  private unplacedReason(req: Req): Unplaced {
    const st = this.state;
    const counts = this.counts;
    counts.fill(0);
    const firstOf = new Int32Array(FILTER_COUNT).fill(-1);
    for (let node = 0; node < st.n; node++) {
      const f = this.evaluate(req, node, false);
      if (f === FEASIBLE) continue;
      counts[f] = (counts[f] as number) + 1;
      if (firstOf[f] === -1) firstOf[f] = node;
    }
    const rejected = countsRecord(counts);
    let reason: string;
    if (st.n === 0) reason = 'the view has no nodes';
    else {
      let top = 0;
      for (let f = 1; f < FILTER_COUNT; f++) if ((counts[f] as number) > (counts[top] as number)) top = f;
      const parts = FILTERS.map((name, f) => ({ name, c: counts[f] as number }))
        .filter((x) => x.c > 0)
        .map((x) => `${x.name} on ${x.c} node${x.c === 1 ? '' : 's'}`);
      const example = firstOf[top] as number;
      this.evaluate(req, example, true);
      reason = `no node fits (${parts.join(', ')}); e.g. ${st.names[example]}: ${this.message}`;
    }
    return { guest: req.guest.name, reason, rejected };
  }

  /**
   * Checks `node` for `req`, filters in FILTERS order. Returns the index of the first failing filter
   * or FEASIBLE with this.score (and the storage/GPU choice) filled in. With `detail`, this.message
   * says why, with the numbers.
   */
  private evaluate(req: Req, node: number, detail: boolean, ignoreGroups = false): number {
    const st = this.state;
    const policy = this.policy;
    if (req.pinned !== -1 && req.pinned !== node) {
      if (detail) {
        this.message =
          req.pinned === -2
            ? `pinned to ${req.guest.node}, which is not in the view`
            : `pinned to ${req.guest.node}`;
      }
      return F_PINNED;
    }
    if (st.up[node] === 0) {
      if (detail) this.message = 'node is down (no recent heartbeat)';
      return F_DOWN;
    }
    if (req.labels !== undefined && req.labels.member[node] === 0) {
      if (detail) {
        const have = st.labels[node] as Readonly<Record<string, string>>;
        const missing = req.labelPairs.find(([k, v]) => have[k] !== v) ?? ['', ''];
        const [k, v] = missing;
        this.message = Object.hasOwn(have, k)
          ? `labels: needs ${k}=${v}, node has ${k}=${have[k]}`
          : `labels: needs ${k}=${v}, node has no ${k} label`;
      }
      return F_LABELS;
    }
    for (let k = 0; !ignoreGroups && k < req.groupCounts.length; k++) {
      const c = (req.groupCounts[k] as Int32Array)[node] as number;
      if (c > 0) {
        if (detail) this.message = `anti-affinity: group ${req.groups[k]} already has ${c} guest${c === 1 ? '' : 's'} on this node`;
        return F_ANTI;
      }
    }
    let copy = false;
    const tpl = req.template;
    if (tpl !== undefined && tpl.present[node] === 0) {
      const elsewhere = (st.templateNodeCount.get(tpl.key) ?? 0) > 0;
      if (!tpl.file && !elsewhere) {
        if (detail) {
          const src = req.guest.template?.kind === 'guest' ? req.guest.template.guest : '';
          this.message = this.unplacedNames.has(src)
            ? `template: ${tpl.display} is on no node (its template guest ${src} could not be placed)`
            : `template: ${tpl.display} is on no node`;
        }
        return F_TEMPLATE;
      }
      if (policy.templateCopies === 'deny') {
        if (detail) this.message = `template: ${tpl.display} is not on this node and template copies are denied`;
        return F_TEMPLATE;
      }
      copy = true;
    }
    const cpuCap = st.cpuCap[node] as number;
    const cpuUsed = st.cpuUsed[node] as number;
    if (cpuUsed + req.cores > cpuCap + 1e-9) {
      if (detail) {
        this.message = `cpu: needs ${num(req.cores)} vCPU, ${num(Math.max(0, cpuCap - cpuUsed))} of ${num(cpuCap)} free (overcommit ${policy.overcommit.cpu}×)`;
      }
      return F_CPU;
    }
    const memCap = st.memCap[node] as number;
    const memUsed = st.memUsed[node] as number;
    if (memUsed + req.mem > memCap + 1e-9) {
      if (detail) {
        this.message = `memory: needs ${num(req.mem)} MiB, ${num(Math.max(0, memCap - memUsed))} MiB free`;
      }
      return F_MEMORY;
    }

    // Storage: every disk on a storage of this node with room for it (disks on one slot add up).
    const disks = req.disks;
    if (disks.length > this.diskEntry.length) this.diskEntry = new Int32Array(disks.length * 2);
    let storageScore = 0;
    for (let k = 0; k < disks.length; k++) {
      const d = disks[k] as Req['disks'][number];
      let entry = -1;
      if (d.sid === -2) {
        if (detail) this.message = `storage: ${d.name} exists on no node`;
        return F_STORAGE;
      } else if (d.sid >= 0) {
        entry = (d.entry as Int32Array)[node] as number;
        if (entry < 0) {
          if (detail) this.message = `storage: ${d.name} is not on this node`;
          return F_STORAGE;
        }
        const slot = st.stSlot[entry] as number;
        const free = (st.slotFree[slot] as number) - this.pendingOnSlot(disks, slot, k);
        if (free + 1e-9 < d.sizeGiB) {
          if (detail) this.message = `storage: needs ${num(d.sizeGiB)} GiB on ${d.name}, ${num(Math.max(0, free))} GiB free`;
          return F_STORAGE;
        }
      } else {
        const s = st.stStart[node] as number;
        const e = s + (st.stCount[node] as number);
        let bestGain = -Infinity;
        let bestTier = 2;
        let largest = -1;
        // a node's own storage; a shared one only on a node that has none for this content
        const wantShared = ((st.localContent[node] as number) & d.content) === 0 ? 1 : 0;
        for (let x = s; x < e; x++) {
          if (((st.stContent[x] as number) & d.content) === 0) continue;
          const slot = st.stSlot[x] as number;
          if (st.slotShared[slot] !== wantShared) continue;
          const free = (st.slotFree[slot] as number) - this.pendingOnSlot(disks, slot, k);
          if (free > largest) largest = free;
          if (free + 1e-9 < d.sizeGiB) continue;
          // the node's own storages before shared ones, then the one that adds most to the score
          // (binpack: fullest, spread: emptiest); first wins ties
          const tier = st.slotShared[slot] as number;
          // ranks storages as their score term would: sign·(2u + d) = sign·(2 + (size − 2·free)/total)
          const gain = this.sign * ((d.sizeGiB - 2 * free) * (st.invSlotTotal[slot] as number));
          if (tier < bestTier || (tier === bestTier && gain > bestGain)) {
            bestTier = tier;
            bestGain = gain;
            entry = x;
          }
        }
        if (entry < 0) {
          if (detail) {
            const what = d.content === 2 ? 'container disks (rootdir)' : 'VM disks (images)';
            this.message =
              largest < 0
                ? `storage: no storage for ${what} on this node`
                : `storage: needs ${num(d.sizeGiB)} GiB for ${what}, largest has ${num(Math.max(0, largest))} GiB free`;
          }
          return F_STORAGE;
        }
      }
      this.diskEntry[k] = entry;
      const slot = st.stSlot[entry] as number;
      const invTotal = st.invSlotTotal[slot] as number;
      if (invTotal > 0) {
        const free = (st.slotFree[slot] as number) - this.pendingOnSlot(disks, slot, k);
        const u = 1 - free * invTotal;
        const dd = d.sizeGiB * invTotal;
        storageScore += d.sizeGiB * st.invMeanSlot * (2 * u + dd);
      }
    }

    // GPUs: enough eligible ones of the right model, with free memory, under the utilisation cap.
    let gpuScore = 0;
    const gpu = req.gpu;
    if (gpu !== undefined) {
      const chosen = this.pickGpus(req, node, detail);
      if (chosen < 0) return F_GPU;
      const total = st.nodeGpuTotal[node] as number;
      if (total > 0) {
        let reserved = 0;
        for (let k = 0; k < this.gpuPicked; k++) {
          const e = this.gpuPick[k] as number;
          reserved += gpu.exclusive ? (st.gMemFree[e] as number) : gpu.minFree;
        }
        const u = 1 - (st.nodeGpuFree[node] as number) / total;
        const dd = reserved / total;
        gpuScore = reserved * st.invMeanGpu * (2 * u + dd);
      }
    }

    const w = policy.weights;
    const invCpu = st.invCpuCap[node] as number;
    const invMem = st.invMemCap[node] as number;
    const uc = cpuUsed * invCpu;
    const dc = req.cores * invCpu;
    const um = memUsed * invMem;
    const dm = req.mem * invMem;
    let sum = w.cpu * req.cores * st.invMeanCpu * (2 * uc + dc) + w.memory * req.mem * st.invMeanMem * (2 * um + dm);
    if (gpu !== undefined) sum += w.gpu * gpuScore;
    sum += w.storage * storageScore;
    let score = this.sign * sum * this.invW;
    if (copy) score -= policy.templateCopyCost;
    const gpuPenalty = gpu === undefined && st.hasGpu[node] === 1;
    if (gpuPenalty) score -= policy.gpuNodePenalty;
    this.score = score;
    this.copy = copy;
    if (detail) {
      const parts = [
        `cpu ${pct(uc)}→${pct(uc + dc)}`,
        `memory ${pct(um)}→${pct(um + dm)}`,
      ];
      for (let k = 0; k < disks.length; k++) {
        const e = this.diskEntry[k] as number;
        const slot = st.stSlot[e] as number;
        const total = st.slotTotal[slot] as number;
        const free = st.slotFree[slot] as number;
        const size = (disks[k] as Req['disks'][number]).sizeGiB;
        if (total > 0) parts.push(`${st.storageNames[st.stId[e] as number]} ${pct(1 - free / total)}→${pct(1 - (free - size) / total)}`);
      }
      if (gpu !== undefined) {
        const idx = Array.from(this.gpuPick.subarray(0, this.gpuPicked), (e) => st.gIndex[e]).join(',');
        parts.push(`GPU ${idx}`);
      }
      if (copy) parts.push(`template copy −${policy.templateCopyCost}`);
      if (gpuPenalty) parts.push(`GPU node without GPU use −${policy.gpuNodePenalty}`);
      this.message = `score ${round(score)}: ${parts.join(', ')}`;
    }
    return FEASIBLE;
  }

  /** GiB already claimed on `slot` by disks 0..k-1 of the guest being evaluated. */
  private pendingOnSlot(disks: Req['disks'], slot: number, k: number): number {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      if (this.state.stSlot[this.diskEntry[j] as number] === slot) sum += (disks[j] as Req['disks'][number]).sizeGiB;
    }
    return sum;
  }

  /**
   * Chooses the guest's GPUs on `node` into this.gpuPick: binpack takes the eligible GPUs with the
   * least free memory, spread those with the most; index breaks ties. Returns -1 if too few.
   */
  private pickGpus(req: Req, node: number, detail: boolean): number {
    const st = this.state;
    const gpu = req.gpu as NonNullable<Req['gpu']>;
    const s = st.gStart[node] as number;
    const e = s + (st.gCount[node] as number);
    if (this.gpuPick.length < e - s) this.gpuPick = new Int32Array((e - s) * 2);
    let n = 0;
    const why: string[] = [];
    for (let x = s; x < e; x++) {
      let bad = '';
      if (gpu.devices !== undefined && !gpu.devices.includes(st.gIndex[x] as number)) bad = 'not requested';
      else if (gpu.set.modelOk[st.gModel[x] as number] === 0) bad = `model ${st.models[st.gModel[x] as number]}`;
      else if (st.gExclusive[x] === 1) bad = 'passed through to a VM';
      else if (gpu.exclusive && (st.gUsers[x] as number) > 0) bad = `in use by ${st.gUsers[x]} guest(s)`;
      else if ((st.gMemFree[x] as number) + 1e-9 < gpu.minFree) bad = `${num(st.gMemFree[x] as number)} MiB free`;
      else if ((st.gUtil[x] as number) > gpu.maxUtil) bad = `${num(st.gUtil[x] as number)}% busy`;
      if (bad === '') {
        // insertion by (free memory, index) in strategy order
        let p = n++;
        const free = st.gMemFree[x] as number;
        while (p > 0) {
          const prev = this.gpuPick[p - 1] as number;
          const pf = st.gMemFree[prev] as number;
          const before = this.sign > 0 ? pf <= free : pf >= free;
          if (before) break;
          this.gpuPick[p] = prev;
          p--;
        }
        this.gpuPick[p] = x;
      } else if (detail && bad !== 'not requested') {
        why.push(`GPU ${st.gIndex[x]}: ${bad}`);
      }
    }
    const want = gpu.count;
    const devicesOk = gpu.devices === undefined || n === gpu.devices.length;
    if (n < want || !devicesOk) {
      if (detail) {
        const what = `${want}× ${gpu.model ?? 'GPU'}${gpu.minFree > 0 ? ` with ≥ ${num(gpu.minFree)} MiB free` : ''}${gpu.exclusive ? ' (exclusive)' : ''}`;
        const pinned = gpu.devices !== undefined ? ` at index ${gpu.devices.join(',')}` : '';
        const detailText = e === s ? 'node has no GPUs' : `${n} eligible of ${e - s}${why.length ? `: ${why.join('; ')}` : ''}`;
        this.message = `gpu: needs ${what}${pinned}; ${detailText}`;
      }
      this.gpuPicked = 0;
      return -1;
    }
    this.gpuPicked = want;
    return want;
  }

}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function countsRecord(counts: Int32Array): Partial<Record<FilterName, number>> {
  const out: Partial<Record<FilterName, number>> = {};
  for (let f = 0; f < FILTER_COUNT; f++) {
    const c = counts[f] as number;
    if (c > 0) out[FILTERS[f] as FilterName] = c;
  }
  return out;
}

function verdictOrder(a: NodeVerdict, b: NodeVerdict): number {
  const rank = (v: NodeVerdict): number => (v.verdict === 'chosen' ? 0 : v.verdict === 'feasible' ? 1 : 2);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1 && a.score !== b.score) return (b.score ?? 0) - (a.score ?? 0);
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}
