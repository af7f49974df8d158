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
import { decisionOrder, type Req } from './requests.js';
import { Run } from './run.js';
import { evaluate } from './filters.js';
import { improve } from './improve.js';
import { commit, lift, putBack } from './moves.js';
import { scan } from './scan.js';
import { allVerdicts, countsRecord, placementOf, unplacedReason, verdictOrder } from './explain.js';
import { round } from './score.js';
import type { Decision, Explanation, NodeVerdict, PendingGuest, Placement, ScheduleOptions, SchedulePolicy, ScheduleResult, Unplaced } from './types.js';

export { DEFAULT_IMPROVE_BUDGET } from './run.js';

export function schedule(
  view: ClusterView,
  pending: readonly PendingGuest[],
  policy: SchedulePolicy,
  options: ScheduleOptions = {},
): ScheduleResult {
  return plan(new Run(view, pending, policy, options), undefined).result;
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
  const out = plan(new Run(view, pending, policy, options), guest);
  const decision = out.result.reasons.get(guest) as Decision;
  return { guest, decision, nodes: out.explained ?? [] };
}

/** Greedy placement in decision order, improvement, then the result with every reason. */
function plan(ctx: Run, explainGuest: string | undefined): { result: ScheduleResult; explained?: NodeVerdict[] } {
  const order = decisionOrder(ctx.reqs);
  for (const i of order) {
    const req = ctx.reqs[i] as Req;
    const best = scan(ctx, req);
    ctx.first[i] = { feasible: ctx.fastFeasible, rejected: countsRecord(ctx.counts) };
    if (best >= 0) {
      evaluate(ctx, req, best, false);
      commit(ctx, i, best);
    }
  }
  improve(ctx, order);

  for (const i of order) if (ctx.assign[i] === -1) ctx.unplacedNames.add((ctx.reqs[i] as Req).guest.name);
  const placements: Placement[] = [];
  const unplaced: Unplaced[] = [];
  const reasons = new Map<string, Decision>();
  let explained: NodeVerdict[] | undefined;
  for (const i of order) {
    const req = ctx.reqs[i] as Req;
    const name = req.guest.name;
    const node = ctx.assign[i] as number;
    const wantVerdicts = ctx.detailAll || name === explainGuest;
    let verdicts: NodeVerdict[] | undefined;
    if (node >= 0) {
      // the guest's score with every other guest in its final place; the plan itself is not changed
      const held = lift(ctx, i);
      if (wantVerdicts) {
        verdicts = allVerdicts(ctx, req).map((v) =>
          v.node === ctx.state.names[node] ? { ...v, verdict: 'chosen' as const, score: round(held.score) } : v,
        );
      }
      putBack(ctx, i, held);
      ctx.score = held.score;
      const placement = placementOf(ctx, i);
      placements.push(placement);
      const first = ctx.first[i] as (Run["first"])[number];
      reasons.set(name, { guest: name, node: placement.node, score: placement.score, feasible: first.feasible, rejected: first.rejected, nodes: ctx.detailAll ? verdicts : undefined });
    } else {
      if (wantVerdicts) verdicts = allVerdicts(ctx, req);
      const miss = unplacedReason(ctx, req);
      unplaced.push(miss);
      reasons.set(name, { guest: name, node: undefined, score: undefined, feasible: 0, rejected: miss.rejected, nodes: ctx.detailAll ? verdicts : undefined });
    }
    if (name === explainGuest && verdicts) explained = [...verdicts].sort(verdictOrder);
  }
  return explained ? { result: { placements, unplaced, reasons }, explained } : { result: { placements, unplaced, reasons } };
}
