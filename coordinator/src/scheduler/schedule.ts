/**
 * schedule(view, pending, policy): a pure, deterministic placement of pending guests.
 *
 * Each guest, in decision order, is checked against every node by the filters (pinned, node-down,
 * labels, anti-affinity, template, cpu, memory, storage, gpu); the feasible node with the highest
 * score wins, ties going to the first node by name. The score is the change the placement makes to
 * Σ weight·utilisation² over the node's resources: binpack takes the largest increase (fill the
 * fullest node that fits), spread the smallest (the emptiest). A planned template copy and a guest
 * without GPUs on a GPU node cost a fixed penalty.
 *
 * Speed: node sets (labels, GPU model, storage) restrict the scan to the nodes that can qualify;
 * capacity lives in typed arrays updated in place; messages with numbers are only built for
 * explain(), detail: 'nodes' and unplaced guests — the hot path only counts rejections.
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

export function schedule(
  view: ClusterView,
  pending: readonly PendingGuest[],
  policy: SchedulePolicy,
  options: ScheduleOptions = {},
): ScheduleResult {
  return new Run(view, pending, policy, options.detail === 'nodes').run(undefined).result;
}

/**
 * Why `guest` goes where it goes: the same run as schedule() up to that guest, then every node's
 * verdict with its numbers.
 */
export function explain(
  view: ClusterView,
  pending: readonly PendingGuest[],
  policy: SchedulePolicy,
  guest: string,
): Explanation {
  if (!pending.some((g) => g.name === guest)) {
    throw new InvalidArgumentError('guest', guest, 'not among the guests to place');
  }
  const out = new Run(view, pending, policy, false).run(guest);
  const decision = out.result.reasons.get(guest) as Decision;
  return { guest, decision, nodes: out.explained ?? [] };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 && x > 0 ? 1 : 0)}%`;
}
function num(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

class Run {
  private readonly state: ClusterState;
  private readonly reqs: Req[];
  private readonly sign: number;
  private readonly counts = new Int32Array(FILTER_COUNT);
  // Scratch written by evaluate() for the node it last accepted.
  private score = 0;
  private copy = false;
  private message = '';
  private diskEntry: Int32Array = new Int32Array(4);
  private gpuPick: Int32Array = new Int32Array(8);
  private gpuPicked = 0;
  private readonly unplacedNames = new Set<string>();

  constructor(
    view: ClusterView,
    pending: readonly PendingGuest[],
    private readonly policy: SchedulePolicy,
    private readonly detailAll: boolean,
  ) {
    const names = new Set<string>();
    pending.forEach((g, i) => {
      if (names.has(g.name)) throw new InvalidArgumentError(`pending.${i}.name`, g.name, 'duplicate guest name');
      names.add(g.name);
    });
    this.state = new ClusterState(view, policy);
    this.reqs = buildRequests(this.state, pending);
    this.sign = policy.strategy === 'binpack' ? 1 : -1;
  }

  run(stopAt: string | undefined): { result: ScheduleResult; explained?: NodeVerdict[] } {
    const placements: Placement[] = [];
    const unplaced: Unplaced[] = [];
    const reasons = new Map<string, Decision>();
    for (const i of decisionOrder(this.reqs)) {
      const req = this.reqs[i] as Req;
      const stop = req.guest.name === stopAt;
      const verdicts = stop || this.detailAll ? this.allVerdicts(req) : undefined;
      const { decision, placement, miss } = this.decide(req, verdicts);
      reasons.set(req.guest.name, decision);
      if (placement) placements.push(placement);
      if (miss) unplaced.push(miss);
      if (stop) {
        const explained = (verdicts ?? []).map((v) =>
          v.node === decision.node ? { ...v, verdict: 'chosen' as const } : v,
        );
        explained.sort(verdictOrder);
        return { result: { placements, unplaced, reasons }, explained };
      }
    }
    return { result: { placements, unplaced, reasons } };
  }

  private decide(
    req: Req,
    verdicts: NodeVerdict[] | undefined,
  ): { decision: Decision; placement?: Placement; miss?: Unplaced } {
    const st = this.state;
    const counts = this.counts;
    counts.fill(0);
    let best = -1;
    let feasible = 0;
    const drv = req.driver;
    if (drv !== null) counts[req.driverFilter] = st.n - drv.length;
    if (req.gpu === undefined && req.disks.length === 1 && req.disks[0]?.sid !== -2) {
      best = this.scanFast(req);
      feasible = this.fastFeasible;
    } else {
      let bestScore = -Infinity;
      const len = drv !== null ? drv.length : st.n;
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
    }
    const name = req.guest.name;
    if (best < 0) {
      const miss = this.unplacedReason(req);
      this.unplacedNames.add(name);
      return {
        decision: { guest: name, node: undefined, score: undefined, feasible: 0, rejected: miss.rejected, nodes: verdicts },
        miss,
      };
    }
    this.evaluate(req, best, false); // refill the scratch (storage and GPU choice) for the winner
    const placement = this.commit(req, best);
    return {
      decision: {
        guest: name,
        node: placement.node,
        score: placement.score,
        feasible,
        rejected: countsRecord(counts),
        nodes: verdicts?.map((v) => (v.node === placement.node ? { ...v, verdict: 'chosen' as const } : v)),
      },
      placement,
    };
  }

  private fastFeasible = 0;

  /**
   * The hot loop for the common request (no GPU, one disk): the same checks and the same score
   * arithmetic as evaluate(), with every array in a local. Returns the best node or -1 and leaves
   * the rejection counts in this.counts; explain() and the property tests hold the two to agreement.
   */
  private scanFast(req: Req): number {
    const st = this.state;
    const counts = this.counts;
    const policy = this.policy;
    const drv = req.driver;
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
    const slotTotal = st.slotTotal;
    const disk = req.disks[0] as Req['disks'][number];
    const sid = disk.sid;
    const entryOf = disk.entry;
    const size = disk.sizeGiB;
    const content = disk.content;
    const cores = req.cores;
    const mem = req.mem;
    const sign = this.sign;
    const w = policy.weights;
    const wc = w.cpu;
    const wm = w.memory;
    const wstor = w.storage;
    const wsum = wc + wm + wstor;
    let best = -1;
    let bestScore = -Infinity;
    let feasible = 0;
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
      if (req.pinned !== -1 && req.pinned !== i) {
        rPinned++;
        continue;
      }
      if (up[i] === 0) {
        rDown++;
        continue;
      }
      if (labels !== undefined && labels[i] === 0) {
        rLabels++;
        continue;
      }
      let anti = false;
      for (let g = 0; g < ng; g++) {
        if (((groups[g] as Int32Array)[i] as number) > 0) {
          anti = true;
          break;
        }
      }
      if (anti) {
        rAnti++;
        continue;
      }
      let copy = false;
      if (tplPresent !== undefined && tplPresent[i] === 0) {
        if (!tplElsewhere || !copyAllowed) {
          rTemplate++;
          continue;
        }
        copy = true;
      }
      const cu = cpuUsed[i] as number;
      if (cu + cores > (cpuCap[i] as number) + 1e-9) {
        rCpu++;
        continue;
      }
      const mu = memUsed[i] as number;
      if (mu + mem > (memCap[i] as number) + 1e-9) {
        rMemory++;
        continue;
      }
      let entry = -1;
      let free = 0;
      if (sid >= 0) {
        entry = (entryOf as Int32Array)[i] as number;
        if (entry < 0) {
          rStorage++;
          continue;
        }
        free = slotFree[stSlot[entry] as number] as number;
        if (free + 1e-9 < size) {
          rStorage++;
          continue;
        }
      } else {
        const s = stStart[i] as number;
        const e = s + (stCount[i] as number);
        for (let x = s; x < e; x++) {
          if (((stContent[x] as number) & content) === 0) continue;
          const f = slotFree[stSlot[x] as number] as number;
          if (f + 1e-9 < size) continue;
          if (entry < 0 || (sign > 0 ? f < free : f > free)) {
            entry = x;
            free = f;
          }
        }
        if (entry < 0) {
          rStorage++;
          continue;
        }
      }
      feasible++;
      const total = slotTotal[stSlot[entry] as number] as number;
      let storageScore = 0;
      if (total > 0) {
        const u = 1 - free / total;
        const dd = size / total;
        storageScore += dd * (2 * u + dd);
      }
      const ic = invCpu[i] as number;
      const im = invMem[i] as number;
      const uc = cu * ic;
      const dc = cores * ic;
      const um = mu * im;
      const dm = mem * im;
      let sum = wc * dc * (2 * uc + dc) + wm * dm * (2 * um + dm);
      sum += wstor * storageScore;
      let score = wsum > 0 ? (sign * sum) / wsum : 0;
      if (copy) score -= copyCost;
      if (hasGpu[i] === 1) score -= gpuPenalty;
      if (score > bestScore) {
        bestScore = score;
        best = i;
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
    this.fastFeasible = feasible;
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
  private evaluate(req: Req, node: number, detail: boolean): number {
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
    for (let k = 0; k < req.groupCounts.length; k++) {
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
        let bestFree = 0;
        let largest = -1;
        for (let x = s; x < e; x++) {
          if (((st.stContent[x] as number) & d.content) === 0) continue;
          const slot = st.stSlot[x] as number;
          const free = (st.slotFree[slot] as number) - this.pendingOnSlot(disks, slot, k);
          if (free > largest) largest = free;
          if (free + 1e-9 < d.sizeGiB) continue;
          // binpack: the tightest storage that fits; spread: the roomiest. First wins ties.
          if (entry < 0 || (this.sign > 0 ? free < bestFree : free > bestFree)) {
            entry = x;
            bestFree = free;
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
      const total = st.slotTotal[slot] as number;
      if (total > 0) {
        const free = (st.slotFree[slot] as number) - this.pendingOnSlot(disks, slot, k);
        const u = 1 - free / total;
        const dd = d.sizeGiB / total;
        storageScore += dd * (2 * u + dd);
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
        gpuScore = dd * (2 * u + dd);
      }
    }

    const w = policy.weights;
    const invCpu = st.invCpuCap[node] as number;
    const invMem = st.invMemCap[node] as number;
    const uc = cpuUsed * invCpu;
    const dc = req.cores * invCpu;
    const um = memUsed * invMem;
    const dm = req.mem * invMem;
    let sum = w.cpu * dc * (2 * uc + dc) + w.memory * dm * (2 * um + dm);
    let wsum = w.cpu + w.memory;
    if (gpu !== undefined) {
      sum += w.gpu * gpuScore;
      wsum += w.gpu;
    }
    if (disks.length > 0) {
      sum += (w.storage * storageScore) / disks.length;
      wsum += w.storage;
    }
    let score = wsum > 0 ? (this.sign * sum) / wsum : 0;
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

  private commit(req: Req, node: number): Placement {
    const st = this.state;
    st.cpuUsed[node] = (st.cpuUsed[node] as number) + req.cores;
    st.memUsed[node] = (st.memUsed[node] as number) + req.mem;
    const storages: string[] = [];
    for (let k = 0; k < req.disks.length; k++) {
      const e = this.diskEntry[k] as number;
      const slot = st.stSlot[e] as number;
      st.slotFree[slot] = (st.slotFree[slot] as number) - (req.disks[k] as Req['disks'][number]).sizeGiB;
      storages.push(st.storageNames[st.stId[e] as number] as string);
    }
    const gpus: number[] = [];
    const gpu = req.gpu;
    if (gpu !== undefined) {
      for (let k = 0; k < this.gpuPicked; k++) {
        const e = this.gpuPick[k] as number;
        gpus.push(st.gIndex[e] as number);
        st.gUsers[e] = (st.gUsers[e] as number) + 1;
        if (gpu.exclusive) {
          st.nodeGpuFree[node] = (st.nodeGpuFree[node] as number) - (st.gMemFree[e] as number);
          st.gMemFree[e] = 0;
          st.gExclusive[e] = 1;
        } else {
          st.gMemFree[e] = (st.gMemFree[e] as number) - gpu.minFree;
          st.nodeGpuFree[node] = (st.nodeGpuFree[node] as number) - gpu.minFree;
        }
      }
      gpus.sort((a, b) => a - b);
    }
    for (const counts of req.groupCounts) counts[node] = (counts[node] as number) + 1;
    for (const key of req.provides) st.markTemplate(key, node);
    if (req.template !== undefined) st.markTemplate(req.template.key, node);
    const name = st.names[node] as string;
    return { guest: req.guest.name, node: name, score: round(this.score), storages, gpus, templateCopy: this.copy };
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
