/**
 * The plan's objective J (see schedule.ts) and number formatting shared by scores and messages.
 * A node's score for one guest is computed in evaluate() (filters.ts), scanFast() (scan.ts) and
 * lift() (moves.ts) by the same arithmetic; objective() recomputes J from scratch for the exact search.
 */
import type { Run } from './run.js';

/** J, the plan's objective, from scratch (see the file comment). */
export function objective(ctx: Run): number {
  const st = ctx.state;
  const w = ctx.policy.weights;
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
  ctx.reqs.forEach((r, i) => {
    const node = ctx.assign[i] as number;
    if (node < 0) return;
    if (ctx.copyOf[i] === 1 && r.template) copies.add(`${r.template.key}\u0000${node}`);
    if (r.gpu === undefined && st.hasGpu[node] === 1) penalty += ctx.policy.gpuNodePenalty;
  });
  penalty += copies.size * ctx.policy.templateCopyCost;
  return ctx.sign * quad * ctx.invW - penalty;
}
export function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 && x > 0 ? 1 : 0)}%`;
}
export function num(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}
