/**
 * Exact search for a small batch: every assignment of the movable guests (the others fixed), most
 * guests placed first, then the largest objective J (score.ts); pruned by the placed count.
 */
import type { Req } from './requests.js';
import { FEASIBLE, GAIN, type Run, type Snapshot } from './run.js';
import { evaluate } from './filters.js';
import { commit, restore, snapshot, uncommit } from './moves.js';
import { objective } from './score.js';

/**
 * Branch and bound over the movable guests of a small batch, the others fixed: most guests
 * placed first, then the largest J. Starts from the current plan and keeps it unless a strictly
 * better one is found within the budget.
 */
export function exact(ctx: Run, list: readonly number[]): void {
  const incumbent = snapshot(ctx, list);
  const placedNow = incumbent.assign.reduce((a, n) => a + (n >= 0 ? 1 : 0), 0);
  let bestPlaced = placedNow;
  let bestJ = objective(ctx);
  let best: Snapshot | undefined;
  for (let k = list.length - 1; k >= 0; k--) if (ctx.assign[list[k] as number] !== -1) uncommit(ctx, list[k] as number);
  const baseJ = objective(ctx);
  const n = ctx.state.n;
  const scores = new Float64Array(n);
  const nodes: number[][] = list.map(() => []);
  const walk = (k: number, placed: number, j: number): void => {
    if (ctx.budget <= 0) return;
    if (placed + (list.length - k) < bestPlaced) return;
    if (k === list.length) {
      if (placed > bestPlaced || (placed === bestPlaced && j > bestJ + GAIN)) {
        bestPlaced = placed;
        bestJ = j;
        best = snapshot(ctx, list);
      }
      return;
    }
    const i = list[k] as number;
    const req = ctx.reqs[i] as Req;
    const options = nodes[k] as number[];
    options.length = 0;
    ctx.budget -= n;
    for (let node = 0; node < n; node++) {
      if (evaluate(ctx, req, node, false) === FEASIBLE) {
        scores[node] = ctx.score;
        options.push(node);
      }
    }
    options.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
    const tried = [...options];
    const tryScores = tried.map((node) => scores[node] as number);
    tried.forEach((node, x) => {
      if (ctx.budget <= 0) return;
      evaluate(ctx, req, node, false);
      commit(ctx, i, node);
      walk(k + 1, placed + 1, j + (tryScores[x] as number));
      uncommit(ctx, i);
    });
    walk(k + 1, placed, j);
  };
  walk(0, 0, baseJ);
  restore(ctx, list, best ?? incumbent);
}
