/**
 * The filters, and the score of a node that passes them: evaluate() checks one node for one
 * request in FILTERS order (pinned, node-down, labels, anti-affinity, template, cpu, memory,
 * storage, gpu) and returns the first that fails, or FEASIBLE with the score and the storage/GPU
 * choice left in the run's scratch. With `detail` it also says why, with the numbers (explain()).
 * The fast scan in scan.ts repeats these checks inline for requests without GPUs; the property
 * test in scan.property.test.ts holds the two to agreement.
 */
import { F_ANTI, F_CPU, F_DOWN, F_GPU, F_LABELS, F_MEMORY, F_PINNED, F_STORAGE, F_TEMPLATE, type Req } from './requests.js';
import { FEASIBLE, type Run } from './run.js';
import { num, pct, round } from './score.js';

/**
 * Checks `node` for `req`, filters in FILTERS order. Returns the index of the first failing filter
 * or FEASIBLE with ctx.score (and the storage/GPU choice) filled in. With `detail`, ctx.message
 * says why, with the numbers.
 */
export function evaluate(ctx: Run, req: Req, node: number, detail: boolean, ignoreGroups = false): number {
  const st = ctx.state;
  const policy = ctx.policy;
  if (req.pinned !== -1 && req.pinned !== node) {
    if (detail) {
      ctx.message =
        req.pinned === -2
          ? `pinned to ${req.guest.node}, which is not in the view`
          : `pinned to ${req.guest.node}`;
    }
    return F_PINNED;
  }
  if (st.up[node] === 0) {
    if (detail) ctx.message = 'node is down (no recent heartbeat)';
    return F_DOWN;
  }
  if (req.labels !== undefined && req.labels.member[node] === 0) {
    if (detail) {
      const have = st.labels[node] as Readonly<Record<string, string>>;
      const missing = req.labelPairs.find(([k, v]) => have[k] !== v) ?? ['', ''];
      const [k, v] = missing;
      ctx.message = Object.hasOwn(have, k)
        ? `labels: needs ${k}=${v}, node has ${k}=${have[k]}`
        : `labels: needs ${k}=${v}, node has no ${k} label`;
    }
    return F_LABELS;
  }
  for (let k = 0; !ignoreGroups && k < req.groupCounts.length; k++) {
    const c = (req.groupCounts[k] as Int32Array)[node] as number;
    if (c > 0) {
      if (detail) ctx.message = `anti-affinity: group ${req.groups[k]} already has ${c} guest${c === 1 ? '' : 's'} on this node`;
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
        ctx.message = ctx.unplacedNames.has(src)
          ? `template: ${tpl.display} is on no node (its template guest ${src} could not be placed)`
          : `template: ${tpl.display} is on no node`;
      }
      return F_TEMPLATE;
    }
    if (policy.templateCopies === 'deny') {
      if (detail) ctx.message = `template: ${tpl.display} is not on this node and template copies are denied`;
      return F_TEMPLATE;
    }
    copy = true;
  }
  const cpuCap = st.cpuCap[node] as number;
  const cpuUsed = st.cpuUsed[node] as number;
  if (cpuUsed + req.cores > cpuCap + 1e-9) {
    if (detail) {
      ctx.message = `cpu: needs ${num(req.cores)} vCPU, ${num(Math.max(0, cpuCap - cpuUsed))} of ${num(cpuCap)} free (overcommit ${policy.overcommit.cpu}×)`;
    }
    return F_CPU;
  }
  const memCap = st.memCap[node] as number;
  const memUsed = st.memUsed[node] as number;
  if (memUsed + req.mem > memCap + 1e-9) {
    if (detail) {
      ctx.message = `memory: needs ${num(req.mem)} MiB, ${num(Math.max(0, memCap - memUsed))} MiB free`;
    }
    return F_MEMORY;
  }

  // Storage: every disk on a storage of this node with room for it (disks on one slot add up).
  const disks = req.disks;
  if (disks.length > ctx.diskEntry.length) ctx.diskEntry = new Int32Array(disks.length * 2);
  let storageScore = 0;
  for (let k = 0; k < disks.length; k++) {
    const d = disks[k] as Req['disks'][number];
    let entry = -1;
    if (d.sid === -2) {
      if (detail) ctx.message = `storage: ${d.name} exists on no node`;
      return F_STORAGE;
    } else if (d.sid >= 0) {
      entry = (d.entry as Int32Array)[node] as number;
      if (entry < 0) {
        if (detail) ctx.message = `storage: ${d.name} is not on this node`;
        return F_STORAGE;
      }
      const slot = st.stSlot[entry] as number;
      const free = (st.slotFree[slot] as number) - pendingOnSlot(ctx, disks, slot, k);
      if (free + 1e-9 < d.sizeGiB) {
        if (detail) ctx.message = `storage: needs ${num(d.sizeGiB)} GiB on ${d.name}, ${num(Math.max(0, free))} GiB free`;
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
        const free = (st.slotFree[slot] as number) - pendingOnSlot(ctx, disks, slot, k);
        if (free > largest) largest = free;
        if (free + 1e-9 < d.sizeGiB) continue;
        // the node's own storages before shared ones, then the one that adds most to the score
        // (binpack: fullest, spread: emptiest); first wins ties
        const tier = st.slotShared[slot] as number;
        // ranks storages as their score term would: sign·(2u + d) = sign·(2 + (size − 2·free)/total)
        const gain = ctx.sign * ((d.sizeGiB - 2 * free) * (st.invSlotTotal[slot] as number));
        if (tier < bestTier || (tier === bestTier && gain > bestGain)) {
          bestTier = tier;
          bestGain = gain;
          entry = x;
        }
      }
      if (entry < 0) {
        if (detail) {
          const what = d.content === 2 ? 'container disks (rootdir)' : 'VM disks (images)';
          ctx.message =
            largest < 0
              ? `storage: no storage for ${what} on this node`
              : `storage: needs ${num(d.sizeGiB)} GiB for ${what}, largest has ${num(Math.max(0, largest))} GiB free`;
        }
        return F_STORAGE;
      }
    }
    ctx.diskEntry[k] = entry;
    const slot = st.stSlot[entry] as number;
    const invTotal = st.invSlotTotal[slot] as number;
    if (invTotal > 0) {
      const free = (st.slotFree[slot] as number) - pendingOnSlot(ctx, disks, slot, k);
      const u = 1 - free * invTotal;
      const dd = d.sizeGiB * invTotal;
      storageScore += d.sizeGiB * st.invMeanSlot * (2 * u + dd);
    }
  }

  // GPUs: enough eligible ones of the right model, with free memory, under the utilisation cap.
  let gpuScore = 0;
  const gpu = req.gpu;
  if (gpu !== undefined) {
    const chosen = pickGpus(ctx, req, node, detail);
    if (chosen < 0) return F_GPU;
    const total = st.nodeGpuTotal[node] as number;
    if (total > 0) {
      let reserved = 0;
      for (let k = 0; k < ctx.gpuPicked; k++) {
        const e = ctx.gpuPick[k] as number;
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
  let score = ctx.sign * sum * ctx.invW;
  if (copy) score -= policy.templateCopyCost;
  const gpuPenalty = gpu === undefined && st.hasGpu[node] === 1;
  if (gpuPenalty) score -= policy.gpuNodePenalty;
  ctx.score = score;
  ctx.copy = copy;
  if (detail) {
    const parts = [
      `cpu ${pct(uc)}→${pct(uc + dc)}`,
      `memory ${pct(um)}→${pct(um + dm)}`,
    ];
    for (let k = 0; k < disks.length; k++) {
      const e = ctx.diskEntry[k] as number;
      const slot = st.stSlot[e] as number;
      const total = st.slotTotal[slot] as number;
      const free = st.slotFree[slot] as number;
      const size = (disks[k] as Req['disks'][number]).sizeGiB;
      if (total > 0) parts.push(`${st.storageNames[st.stId[e] as number]} ${pct(1 - free / total)}→${pct(1 - (free - size) / total)}`);
    }
    if (gpu !== undefined) {
      const idx = Array.from(ctx.gpuPick.subarray(0, ctx.gpuPicked), (e) => st.gIndex[e]).join(',');
      parts.push(`GPU ${idx}`);
    }
    if (copy) parts.push(`template copy −${policy.templateCopyCost}`);
    if (gpuPenalty) parts.push(`GPU node without GPU use −${policy.gpuNodePenalty}`);
    ctx.message = `score ${round(score)}: ${parts.join(', ')}`;
  }
  return FEASIBLE;
}

/** GiB already claimed on `slot` by disks 0..k-1 of the guest being evaluated. */
export function pendingOnSlot(ctx: Run, disks: Req['disks'], slot: number, k: number): number {
  let sum = 0;
  for (let j = 0; j < k; j++) {
    if (ctx.state.stSlot[ctx.diskEntry[j] as number] === slot) sum += (disks[j] as Req['disks'][number]).sizeGiB;
  }
  return sum;
}

/**
 * Chooses the guest's GPUs on `node` into ctx.gpuPick: binpack takes the eligible GPUs with the
 * least free memory, spread those with the most; index breaks ties. Returns -1 if too few.
 */
export function pickGpus(ctx: Run, req: Req, node: number, detail: boolean): number {
  const st = ctx.state;
  const gpu = req.gpu as NonNullable<Req['gpu']>;
  const s = st.gStart[node] as number;
  const e = s + (st.gCount[node] as number);
  if (ctx.gpuPick.length < e - s) ctx.gpuPick = new Int32Array((e - s) * 2);
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
        const prev = ctx.gpuPick[p - 1] as number;
        const pf = st.gMemFree[prev] as number;
        const before = ctx.sign > 0 ? pf <= free : pf >= free;
        if (before) break;
        ctx.gpuPick[p] = prev;
        p--;
      }
      ctx.gpuPick[p] = x;
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
      ctx.message = `gpu: needs ${what}${pinned}; ${detailText}`;
    }
    ctx.gpuPicked = 0;
    return -1;
  }
  ctx.gpuPicked = want;
  return want;
}
