/**
 * Finding a request's best node. scan() judges every candidate node with evaluate(); for requests
 * without GPUs scanFast() does the same checks and arithmetic inline over typed arrays, looks at
 * untouched interchangeable nodes once per class, and remembers the best nodes per request shape
 * (fromCache() brings them up to date from the change log). Every scan is charged to the budget by
 * its candidate nodes, so both scan modes spend the same.
 */
import { F_ANTI, F_CPU, F_DOWN, F_LABELS, F_MEMORY, F_PINNED, F_STORAGE, F_TEMPLATE, type Req } from './requests.js';
import { CACHE_MAX_CHANGED, CACHE_NODES, FEASIBLE, type Run } from './run.js';
import { evaluate } from './filters.js';

/** The best node for `req` in the current state (-1 if none); ctx.counts and ctx.bestScore filled. */
export function scan(ctx: Run, req: Req): number {
  const st = ctx.state;
  const counts = ctx.counts;
  counts.fill(0);
  const drv = req.driver;
  if (drv !== null) counts[req.driverFilter] = st.n - drv.length;
  if (req.gpu === undefined && req.disks.every((d) => d.sid !== -2)) {
    const best = scanFast(ctx, req);
    ctx.bestScore = ctx.fastBest;
    return best;
  }
  let best = -1;
  let bestScore = -Infinity;
  let feasible = 0;
  const len = drv !== null ? drv.length : st.n;
  ctx.budget -= len;
  for (let k = 0; k < len; k++) {
    const node = drv !== null ? (drv[k] as number) : k;
    const f = evaluate(ctx, req, node, false);
    if (f !== FEASIBLE) counts[f] = (counts[f] as number) + 1;
    else {
      feasible++;
      if (ctx.score > bestScore) {
        bestScore = ctx.score;
        best = node;
      }
    }
  }
  ctx.fastFeasible = feasible;
  ctx.bestScore = bestScore;
  return best;
}

/**
 * A number that changes whenever something outside the changed nodes can alter the request's
 * verdicts: its template appearing or vanishing, or a shared storage it may use filling up.
 */
export function epochOf(ctx: Run, req: Req): string {
  const st = ctx.state;
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

/**
 * The best node for `req` from its remembered scan, or undefined when a full scan is needed.
 * Exact: the nodes changed since are judged again; any other node scores at most the threshold.
 */
export function fromCache(ctx: Run, req: Req): number | undefined {
  const entry = ctx.cache.get(req.shape);
  if (entry === undefined || ctx.logLen - entry.logPos > CACHE_MAX_CHANGED || epochOf(ctx, req) !== entry.epoch) return undefined;
  const stamp = ++ctx.seenStamp;
  const { nodes, scores } = entry;
  for (let p = entry.logPos; p < ctx.logLen; p++) {
    const node = ctx.log[p] as number;
    if (ctx.seen[node] === stamp) continue;
    ctx.seen[node] = stamp;
    const at = nodes.indexOf(node);
    if (at >= 0) {
      nodes.splice(at, 1);
      scores.splice(at, 1);
    }
    if (evaluate(ctx, req, node, false, true) !== FEASIBLE || ctx.score <= entry.threshold) continue;
    let x = nodes.length;
    while (x > 0 && ((scores[x - 1] as number) < ctx.score || ((scores[x - 1] as number) === ctx.score && (nodes[x - 1] as number) > node))) x--;
    nodes.splice(x, 0, node);
    scores.splice(x, 0, ctx.score);
  }
  while (nodes.length > 2 * CACHE_NODES) {
    nodes.pop();
    entry.threshold = Math.max(entry.threshold, scores.pop() as number);
  }
  entry.logPos = ctx.logLen;
  ctx.counts.set(entry.counts);
  ctx.fastFeasible = entry.feasible;
  // the first listed node that anti-affinity allows
  let at = 0;
  for (; at < nodes.length; at++) {
    const node = nodes[at] as number;
    if (!req.groupCounts.some((c) => (c[node] as number) > 0)) break;
  }
  if (at === nodes.length) {
    if (entry.threshold !== -Infinity) return undefined;
    ctx.fastBest = -Infinity;
    return -1;
  }
  // a node outside the list may tie with it: only a full scan can break that tie
  if ((scores[at] as number) <= entry.threshold) return undefined;
  ctx.fastBest = scores[at] as number;
  return nodes[at] as number;
}

/**
 * The hot loop for requests without GPUs: the same checks and the same score
 * arithmetic as evaluate(), with every array in a local. Returns the best node or -1 and leaves
 * the rejection counts in ctx.counts; explain() and the property tests hold the two to agreement.
 */
export function scanFast(ctx: Run, req: Req): number {
  const st = ctx.state;
  const counts = ctx.counts;
  const policy = ctx.policy;
  // A full scan visits every touched node and one untouched node per class, weighted by how
  // many untouched nodes that one stands for (for the rejection counts).
  if (ctx.useCache) {
    const hit = fromCache(ctx, req);
    if (hit !== undefined) {
      ctx.budget -= req.driver !== null ? req.driver.length : st.n;
      return hit;
    }
  }
  let drv = req.driver;
  let weight: Int32Array | null = null;
  if (drv === null && ctx.useClasses) {
    const touched = st.touchedCount;
    const classes = st.classMembers.length;
    if (touched + classes < st.n) {
      if (ctx.visit.length < touched + classes) {
        ctx.visit = new Int32Array(st.n);
        ctx.visitWeight = new Int32Array(st.n);
      }
      const visit = ctx.visit;
      const vw = ctx.visitWeight;
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
  if (ctx.chosenSlot.length < nd) ctx.chosenSlot = new Int32Array(nd * 2);
  const chosenSlot = ctx.chosenSlot;
  const cores = req.cores;
  const mem = req.mem;
  const sign = ctx.sign;
  const w = policy.weights;
  const wc = w.cpu;
  const wm = w.memory;
  const wstor = w.storage;
  const invWsum = ctx.invW;
  const pinned = req.pinned;
  let best = -1;
  let bestScore = -Infinity;
  let feasible = 0;
  // the best nodes, for the cache (not when one node stands for a class of them)
  const remember = ctx.useCache && weight === null;
  const topN = ctx.topNodes;
  const topS = ctx.topScores;
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
    ctx.cache.set(req.shape, {
      nodes: Array.from(topN.subarray(0, topCount)),
      scores: Array.from(topS.subarray(0, topCount)),
      threshold: dropped,
      logPos: ctx.logLen,
      epoch: epochOf(ctx, req),
      counts: Int32Array.from(counts),
      feasible,
    });
  }
  ctx.fastFeasible = feasible;
  ctx.fastBest = bestScore;
  // charged by candidate nodes, not by the nodes actually looked at: the same in both scan modes
  ctx.budget -= req.driver !== null ? req.driver.length : st.n;
  return best;
}
