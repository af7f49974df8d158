/**
 * Improvement after the greedy pass, within the evaluation budget: local search (every movable
 * guest moves to its best node given the others, until none gains; unplaced guests take room freed
 * by moving one guest away), then for a small batch the exact search (exact.ts) and a settling pass.
 */
import type { Req } from './requests.js';
import { FEASIBLE, GAIN, type Run } from './run.js';
import { evaluate } from './filters.js';
import { exact } from './exact.js';
import { commit, lift, putBack, uncommit } from './moves.js';
import { scan } from './scan.js';

/** Batches of at most this many movable guests are also searched exactly (within the budget). */
const EXACT_MAX_GUESTS = 10;
/** Evaluations always allowed for settling after the exact search. */
const SETTLE_BUDGET = 200_000;

export function improve(ctx: Run, order: readonly number[]): void {
  const movable = order.filter((i) => {
    const req = ctx.reqs[i] as Req;
    return req.provides.length === 0 && req.pinned === -1;
  });
  if (movable.length > 0) {
    localSearch(ctx, movable);
    if (ctx.exactSearch && movable.length <= EXACT_MAX_GUESTS && ctx.budget > 0) {
      exact(ctx, movable);
      // a search cut short by the budget may stop off a local optimum: settle it (few guests, cheap)
      ctx.budget = Math.max(ctx.budget, SETTLE_BUDGET);
      localSearch(ctx, movable);
    }
  }
  // Whatever the budget left undone, an unplaced guest must not fit anywhere in the final plan.
  for (const i of order) if (ctx.assign[i] === -1) tryPlace(ctx, i);
}

export function localSearch(ctx: Run, movable: readonly number[]): void {
  let changed = true;
  while (changed && ctx.budget > 0) {
    changed = false;
    for (const i of movable) {
      if (ctx.budget <= 0) break;
      if (ctx.assign[i] === -1 ? tryPlace(ctx, i) : relocate(ctx, i)) changed = true;
    }
    for (const i of movable) {
      if (ctx.budget <= 0) break;
      if (ctx.assign[i] === -1 && eject(ctx, i, movable)) changed = true;
    }
  }
}

/** Moves guest i to its best node if that gains anything. */
export function relocate(ctx: Run, i: number): boolean {
  const req = ctx.reqs[i] as Req;
  const held = lift(ctx, i);
  const best = scan(ctx, req);
  if (best >= 0 && ctx.bestScore > held.score + GAIN) {
    evaluate(ctx, req, best, false);
    commit(ctx, i, best);
    return true;
  }
  putBack(ctx, i, held);
  return false;
}

export function tryPlace(ctx: Run, i: number): boolean {
  const req = ctx.reqs[i] as Req;
  const best = scan(ctx, req);
  if (best < 0) return false;
  evaluate(ctx, req, best, false);
  commit(ctx, i, best);
  return true;
}

/** Places unplaced guest u on a node by moving one guest from there to its best other node. */
export function eject(ctx: Run, u: number, movable: readonly number[]): boolean {
  const st = ctx.state;
  const req = ctx.reqs[u] as Req;
  const drv = req.driver;
  const len = drv !== null ? drv.length : st.n;
  // the movable guests of each node, in decision order
  const on = new Map<number, number[]>();
  ctx.budget -= movable.length;
  for (const g of movable) {
    const node = ctx.assign[g] as number;
    if (node < 0) continue;
    const list = on.get(node);
    if (list) list.push(g);
    else on.set(node, [g]);
  }
  for (let k = 0; k < len && ctx.budget > 0; k++) {
    const node = drv !== null ? (drv[k] as number) : k;
    for (const g of on.get(node) ?? []) {
      if (ctx.budget <= 0) break;
      ctx.budget -= 2;
      const other = ctx.reqs[g] as Req;
      const held = lift(ctx, g);
      if (evaluate(ctx, req, node, false) === FEASIBLE) {
        commit(ctx, u, node);
        const m = scan(ctx, other);
        if (m >= 0) {
          evaluate(ctx, other, m, false);
          commit(ctx, g, m);
          return true;
        }
        uncommit(ctx, u);
      }
      putBack(ctx, g, held);
    }
  }
  return false;
}
