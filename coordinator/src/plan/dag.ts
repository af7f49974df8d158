/** Dependency graph over planned guests: validation, cycle detection and topological order. */
import { InvalidArgumentError } from '@phoenix/shared';
import type { PlannedGuest } from './types.js';

/**
 * Returns guest ids in an order where every guest comes after what it depends on; ties keep the
 * input order so plans are deterministic. Throws naming the members of a cycle, or an unknown
 * dependency, before anything runs.
 */
export function topologicalOrder(guests: readonly PlannedGuest[]): string[] {
  const byId = new Map(guests.map((g) => [g.id, g]));
  for (const g of guests) {
    for (const dep of g.dependsOn) {
      if (!byId.has(dep)) throw new InvalidArgumentError(`guests.${g.id}.dependsOn`, dep, 'unknown guest');
      if (dep === g.id) throw new InvalidArgumentError(`guests.${g.id}.dependsOn`, dep, 'a guest cannot depend on itself');
    }
  }
  const indegree = new Map(guests.map((g) => [g.id, g.dependsOn.length]));
  const dependents = new Map<string, string[]>();
  for (const g of guests) for (const dep of g.dependsOn) dependents.set(dep, [...(dependents.get(dep) ?? []), g.id]);
  const position = new Map(guests.map((g, i) => [g.id, i]));
  const ready = guests.filter((g) => g.dependsOn.length === 0).map((g) => g.id);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => position.get(a)! - position.get(b)!);
    const id = ready.shift()!;
    order.push(id);
    for (const next of dependents.get(id) ?? []) {
      const left = indegree.get(next)! - 1;
      indegree.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  if (order.length < guests.length) {
    const cycle = findCycle(guests, new Set(order));
    throw new InvalidArgumentError('dependencies', cycle.join(' -> '), 'dependency cycle');
  }
  return order;
}

function findCycle(guests: readonly PlannedGuest[], done: Set<string>): string[] {
  const byId = new Map(guests.map((g) => [g.id, g]));
  const state = new Map<string, 'visiting' | 'visited'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'visited' || done.has(id)) return undefined;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of byId.get(id)?.dependsOn ?? []) {
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(id, 'visited');
    return undefined;
  };
  for (const g of guests) {
    const found = visit(g.id);
    if (found) return found;
  }
  return [...guests.map((g) => g.id).filter((id) => !done.has(id))];
}
