/**
 * Makespan estimate of a plan, by simulating the executor's own policy (same priorities, the same
 * per-node limit and the same per-source clone queue), plus the bounds it is judged against.
 */
import { topologicalOrder } from './dag.js';
import type { ConcurrencyLimits, PlannedGuest, ScheduleEstimate } from './types.js';

const CLONE_STEP = 'ensure_exists';

export function guestSeconds(g: PlannedGuest): number {
  return g.steps.reduce((sum, s) => sum + s.estSeconds, 0);
}

/** Seconds the clone step holds the source's clone queue. */
export function cloneHoldSeconds(g: PlannedGuest): number {
  return g.cloneSource ? (g.steps.find((s) => s.name === CLONE_STEP)?.estSeconds ?? 0) : 0;
}

/**
 * Longest remaining chain from each guest to the end of the plan (its own work included). The
 * executor starts the ready guest with the largest value first: critical work never waits behind
 * work that has slack.
 */
export function remainingChain(guests: readonly PlannedGuest[]): Map<string, number> {
  const order = topologicalOrder(guests);
  const byId = new Map(guests.map((g) => [g.id, g]));
  const dependents = new Map<string, string[]>();
  for (const g of guests) for (const d of g.dependsOn) dependents.set(d, [...(dependents.get(d) ?? []), g.id]);
  const chain = new Map<string, number>();
  for (const id of [...order].reverse()) {
    const tail = Math.max(0, ...(dependents.get(id) ?? []).map((d) => chain.get(d) ?? 0));
    chain.set(id, guestSeconds(byId.get(id)!) + tail);
  }
  return chain;
}

export function estimateSchedule(guests: readonly PlannedGuest[], limits: ConcurrencyLimits): ScheduleEstimate {
  const byId = new Map(guests.map((g) => [g.id, g]));
  const chain = remainingChain(guests);
  const position = new Map(guests.map((g, i) => [g.id, i]));
  const finished = new Map<string, number>();
  const timeline: ScheduleEstimate['timeline'] = {};
  const running = new Map<string, number>(); // node -> count
  const sourceFreeAt = new Map<string, number>();
  const pending = new Set(guests.map((g) => g.id));
  const active: { id: string; end: number; node: string }[] = [];
  let now = 0;

  while (pending.size > 0 || active.length > 0) {
    const ready = [...pending]
      .filter((id) => byId.get(id)!.dependsOn.every((d) => finished.has(d)))
      .sort((a, b) => chain.get(b)! - chain.get(a)! || position.get(a)! - position.get(b)!);
    let startedAny = false;
    for (const id of ready) {
      const g = byId.get(id)!;
      if ((running.get(g.node) ?? 0) >= limits.perNode) continue;
      const src = g.cloneSource;
      // As in the executor, a clone takes its node slot now and waits there for the source's queue.
      const cloneStart = src ? Math.max(now, sourceFreeAt.get(src) ?? 0) : now;
      if (src) sourceFreeAt.set(src, cloneStart + cloneHoldSeconds(g));
      const end = cloneStart + guestSeconds(g);
      running.set(g.node, (running.get(g.node) ?? 0) + 1);
      active.push({ id, end, node: g.node });
      timeline[id] = { start: cloneStart, end, node: g.node };
      pending.delete(id);
      startedAny = true;
    }
    const next = Math.min(...active.map((a) => a.end));
    if (!Number.isFinite(next)) {
      if (!startedAny && pending.size > 0) throw new Error('plan cannot progress (unsatisfiable dependencies)');
      break;
    }
    now = next;
    for (let i = active.length - 1; i >= 0; i--) {
      const a = active[i]!;
      if (a.end <= now) {
        finished.set(a.id, a.end);
        running.set(a.node, (running.get(a.node) ?? 1) - 1);
        active.splice(i, 1);
      }
    }
  }

  const sequentialSeconds = guests.reduce((s, g) => s + guestSeconds(g), 0);
  const perNodeWork = new Map<string, number>();
  for (const g of guests) perNodeWork.set(g.node, (perNodeWork.get(g.node) ?? 0) + guestSeconds(g));
  const capacityBound = Math.max(0, ...[...perNodeWork.values()].map((w) => w / limits.perNode));
  const criticalPath = longestChain(guests, chain);
  const chainBound = criticalPath.length > 0 ? chain.get(criticalPath[0]!)! : 0;
  return {
    makespanSeconds: Math.max(0, ...Object.values(timeline).map((t) => t.end)),
    lowerBoundSeconds: Math.max(chainBound, capacityBound),
    sequentialSeconds,
    criticalPath,
    timeline,
  };
}

function longestChain(guests: readonly PlannedGuest[], chain: Map<string, number>): string[] {
  if (guests.length === 0) return [];
  const dependents = new Map<string, string[]>();
  for (const g of guests) for (const d of g.dependsOn) dependents.set(d, [...(dependents.get(d) ?? []), g.id]);
  const roots = guests.filter((g) => g.dependsOn.length === 0);
  let cur = roots.reduce((best, g) => (chain.get(g.id)! > chain.get(best.id)! ? g : best), roots[0]!).id;
  const path = [cur];
  for (;;) {
    const next = dependents.get(cur) ?? [];
    if (next.length === 0) return path;
    cur = next.reduce((best, id) => (chain.get(id)! > chain.get(best)! ? id : best), next[0]!);
    path.push(cur);
  }
}
