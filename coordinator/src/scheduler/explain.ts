/**
 * What the plan says about each guest: its placement, the verdict of every node (explain() and
 * detail: 'nodes'), and for an unplaced guest the filter counts with one example node's reason.
 * Verdicts come from evaluate() with detail on, so they carry the same numbers the plan used.
 */
import { FILTER_COUNT, type Req } from './requests.js';
import { FEASIBLE, type Run } from './run.js';
import { evaluate } from './filters.js';
import { round } from './score.js';
import { FILTERS, type FilterName, type NodeVerdict, type Placement, type Unplaced } from './types.js';

export function placementOf(ctx: Run, i: number): Placement {
  const st = ctx.state;
  const req = ctx.reqs[i] as Req;
  const node = ctx.assign[i] as number;
  const disks = ctx.disksOf[i];
  const gpus = ctx.gpusOf[i];
  return {
    guest: req.guest.name,
    node: st.names[node] as string,
    score: round(ctx.score),
    storages: disks ? Array.from(disks, (e) => st.storageNames[st.stId[e] as number] as string) : [],
    gpus: gpus ? Array.from(gpus, (e) => st.gIndex[e] as number).sort((a, b) => a - b) : [],
    templateCopy: ctx.copyOf[i] === 1,
  };
}

export function allVerdicts(ctx: Run, req: Req): NodeVerdict[] {
  const out: NodeVerdict[] = [];
  for (let node = 0; node < ctx.state.n; node++) {
    const f = evaluate(ctx, req, node, true);
    const name = ctx.state.names[node] as string;
    out.push(
      f === FEASIBLE
        ? { node: name, verdict: 'feasible', message: ctx.message, score: round(ctx.score) }
        : { node: name, verdict: 'rejected', filter: FILTERS[f] as FilterName, message: ctx.message },
    );
  }
  return out;
}

export function unplacedReason(ctx: Run, req: Req): Unplaced {
  const st = ctx.state;
  const counts = ctx.counts;
  counts.fill(0);
  const firstOf = new Int32Array(FILTER_COUNT).fill(-1);
  for (let node = 0; node < st.n; node++) {
    const f = evaluate(ctx, req, node, false);
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
    evaluate(ctx, req, example, true);
    reason = `no node fits (${parts.join(', ')}); e.g. ${st.names[example]}: ${ctx.message}`;
  }
  return { guest: req.guest.name, reason, rejected };
}

export function countsRecord(counts: Int32Array): Partial<Record<FilterName, number>> {
  const out: Partial<Record<FilterName, number>> = {};
  for (let f = 0; f < FILTER_COUNT; f++) {
    const c = counts[f] as number;
    if (c > 0) out[FILTERS[f] as FilterName] = c;
  }
  return out;
}

export function verdictOrder(a: NodeVerdict, b: NodeVerdict): number {
  const rank = (v: NodeVerdict): number => (v.verdict === 'chosen' ? 0 : v.verdict === 'feasible' ? 1 : 2);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1 && a.score !== b.score) return (b.score ?? 0) - (a.score ?? 0);
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}
