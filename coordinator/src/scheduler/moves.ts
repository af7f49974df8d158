/**
 * Moving guests: commit() puts a request on a node with the storage/GPU choice evaluate() left,
 * uncommit() undoes it, lift()/putBack() take a guest off and put it back exactly (with its score
 * for that choice), snapshot()/restore() do the same for a list of guests. Every change is logged
 * so remembered scans (scan.ts) can be brought up to date.
 */
import type { Req } from './requests.js';
import type { Run, Snapshot } from './run.js';

export function logChange(ctx: Run, node: number, disks: Int32Array): void {
  const st = ctx.state;
  if (ctx.logLen === ctx.log.length) {
    const grown = new Int32Array(ctx.log.length * 2);
    grown.set(ctx.log);
    ctx.log = grown;
  }
  ctx.log[ctx.logLen++] = node;
  for (let k = 0; k < disks.length; k++) {
    const slot = st.stSlot[disks[k] as number] as number;
    if (st.slotShared[slot] === 1) st.slotEpoch[slot] = (st.slotEpoch[slot] as number) + 1;
  }
}

/**
 * Takes guest i off its node and returns what it held there, with its score for exactly that
 * choice of storages and GPUs (the same arithmetic as evaluate()).
 */
export function lift(ctx: Run, i: number): { node: number; disks: Int32Array; gpus: Int32Array; taken: Float64Array; score: number } {
  const st = ctx.state;
  const req = ctx.reqs[i] as Req;
  const node = ctx.assign[i] as number;
  const disks = ctx.disksOf[i] ?? new Int32Array(0);
  const gpus = ctx.gpusOf[i] ?? new Int32Array(0);
  const taken = ctx.gpuTaken[i] ?? new Float64Array(0);
  uncommit(ctx, i);
  const w = ctx.policy.weights;
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
  let score = ctx.sign * sum * ctx.invW;
  if (req.template !== undefined && req.template.present[node] === 0) score -= ctx.policy.templateCopyCost;
  if (req.gpu === undefined && st.hasGpu[node] === 1) score -= ctx.policy.gpuNodePenalty;
  return { node, disks, gpus, taken, score };
}

/** Puts guest i back exactly as lift() found it. */
export function putBack(ctx: Run, i: number, held: { node: number; disks: Int32Array; gpus: Int32Array }): void {
  if (ctx.diskEntry.length < held.disks.length) ctx.diskEntry = new Int32Array(held.disks.length * 2);
  ctx.diskEntry.set(held.disks);
  if (ctx.gpuPick.length < held.gpus.length) ctx.gpuPick = new Int32Array(held.gpus.length * 2);
  ctx.gpuPick.set(held.gpus);
  ctx.gpuPicked = held.gpus.length;
  commit(ctx, i, held.node);
}

/** Puts request i on `node` with the storage and GPU choice left in the scratch by evaluate(). */
export function commit(ctx: Run, i: number, node: number): void {
  const st = ctx.state;
  const req = ctx.reqs[i] as Req;
  st.cpuUsed[node] = (st.cpuUsed[node] as number) + req.cores;
  st.memUsed[node] = (st.memUsed[node] as number) + req.mem;
  const disks = new Int32Array(req.disks.length);
  for (let k = 0; k < req.disks.length; k++) {
    const e = ctx.diskEntry[k] as number;
    disks[k] = e;
    const slot = st.stSlot[e] as number;
    st.slotFree[slot] = (st.slotFree[slot] as number) - (req.disks[k] as Req['disks'][number]).sizeGiB;
  }
  ctx.disksOf[i] = disks;
  logChange(ctx, node, disks);
  const gpu = req.gpu;
  if (gpu !== undefined) {
    const picks = Int32Array.from(ctx.gpuPick.subarray(0, ctx.gpuPicked));
    const taken = new Float64Array(picks.length);
    picks.forEach((e, k) => {
      st.gUsers[e] = (st.gUsers[e] as number) + 1;
      const amount = gpu.exclusive ? (st.gMemFree[e] as number) : gpu.minFree;
      taken[k] = amount;
      st.gMemFree[e] = (st.gMemFree[e] as number) - amount;
      st.nodeGpuFree[node] = (st.nodeGpuFree[node] as number) - amount;
      if (gpu.exclusive) st.gExclusive[e] = 1;
    });
    ctx.gpusOf[i] = picks;
    ctx.gpuTaken[i] = taken;
  }
  for (const counts of req.groupCounts) counts[node] = (counts[node] as number) + 1;
  st.touch(node);
  for (const key of req.provides) st.markTemplate(key, node);
  ctx.copyOf[i] = req.template !== undefined && st.useTemplate(req.template.key, node) ? 1 : 0;
  ctx.assign[i] = node;
}

/** Takes request i off its node, undoing commit(). */
export function uncommit(ctx: Run, i: number): void {
  const st = ctx.state;
  const req = ctx.reqs[i] as Req;
  const node = ctx.assign[i] as number;
  if (node < 0) return;
  st.cpuUsed[node] = (st.cpuUsed[node] as number) - req.cores;
  st.memUsed[node] = (st.memUsed[node] as number) - req.mem;
  const disks = ctx.disksOf[i];
  if (disks) {
    for (let k = 0; k < disks.length; k++) {
      const slot = st.stSlot[disks[k] as number] as number;
      st.slotFree[slot] = (st.slotFree[slot] as number) + (req.disks[k] as Req['disks'][number]).sizeGiB;
    }
  }
  logChange(ctx, node, disks ?? new Int32Array(0));
  const picks = ctx.gpusOf[i];
  const taken = ctx.gpuTaken[i];
  if (picks && taken) {
    picks.forEach((e, k) => {
      st.gUsers[e] = (st.gUsers[e] as number) - 1;
      st.gMemFree[e] = (st.gMemFree[e] as number) + (taken[k] as number);
      st.nodeGpuFree[node] = (st.nodeGpuFree[node] as number) + (taken[k] as number);
      if (req.gpu?.exclusive) st.gExclusive[e] = 0;
    });
  }
  for (const counts of req.groupCounts) counts[node] = (counts[node] as number) - 1;
  if (ctx.copyOf[i] === 1 && req.template) st.releaseTemplate(req.template.key, node);
  ctx.copyOf[i] = 0;
  ctx.disksOf[i] = null;
  ctx.gpusOf[i] = null;
  ctx.gpuTaken[i] = null;
  ctx.assign[i] = -1;
}

export function snapshot(ctx: Run, list: readonly number[]): Snapshot {
  return {
    assign: Int32Array.from(list, (i) => ctx.assign[i] as number),
    disks: list.map((i) => ctx.disksOf[i] ?? null),
    gpus: list.map((i) => ctx.gpusOf[i] ?? null),
  };
}

/** Puts the guests of `list` exactly where `s` has them (with the same storages and GPUs). */
export function restore(ctx: Run, list: readonly number[], s: Snapshot): void {
  for (let k = list.length - 1; k >= 0; k--) if (ctx.assign[list[k] as number] !== -1) uncommit(ctx, list[k] as number);
  list.forEach((i, k) => {
    const node = s.assign[k] as number;
    if (node >= 0) putBack(ctx, i, { node, disks: s.disks[k] ?? new Int32Array(0), gpus: s.gpus[k] ?? new Int32Array(0) });
  });
}
