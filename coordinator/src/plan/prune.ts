/**
 * Stage 3, prune: a new guest whose declared dependency or clone parent is not planned (the
 * scheduler could not place it, or it was pruned itself) waits too: it is reported as unplaced, not
 * planned. Guests that exist stay, whatever their dependencies. An OpenShift cluster is placed
 * whole or not at all: a new VM of a cluster with a member that cannot be placed waits too, so
 * nothing of a cluster that cannot fit is created.
 */
import type { Unplaced } from '../scheduler/index.js';
import type { CompiledOpenShift } from '../spec/compile.js';
import type { BoundGuest } from './stages.js';

export function prune(bound: readonly BoundGuest[], clusters: readonly CompiledOpenShift[] = []): { guests: BoundGuest[]; unplaced: Unplaced[] } {
  const kept = new Map(bound.map((b) => [b.id, b]));
  const unplaced: Unplaced[] = [];
  const members = new Map(clusters.map((c) => [c.spec.name, c.spec.nodes.map((n) => n.name)]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const b of [...kept.values()]) {
      if (b.exists) continue;
      const parent = b.parentId !== undefined && !kept.has(b.parentId) ? b.parentId : undefined;
      const missing = parent ?? b.guest.dependencies.find((d) => !kept.has(d));
      const cluster = b.guest.kind === 'vm' ? b.guest.vm.openshift?.cluster : undefined;
      const absent = cluster === undefined ? undefined : members.get(cluster)?.find((m) => !kept.has(m));
      if (missing === undefined && absent === undefined) continue;
      kept.delete(b.id);
      unplaced.push({
        guest: b.id,
        reason: missing !== undefined ? `depends on ${missing}, which cannot be placed` : `OpenShift cluster ${cluster} is placed whole or not at all, and ${absent} cannot be placed`,
        rejected: {},
      });
      changed = true;
    }
  }
  return { guests: [...kept.values()], unplaced };
}
