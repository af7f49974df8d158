/**
 * Stage 3, prune: a new guest whose declared dependency or clone parent is not planned (the
 * scheduler could not place it, or it was pruned itself) waits too: it is reported as unplaced, not
 * planned. Guests that exist stay, whatever their dependencies.
 */
import type { Unplaced } from '../scheduler/index.js';
import type { BoundGuest } from './stages.js';

export function prune(bound: readonly BoundGuest[]): { guests: BoundGuest[]; unplaced: Unplaced[] } {
  const kept = new Map(bound.map((b) => [b.id, b]));
  const unplaced: Unplaced[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    for (const b of [...kept.values()]) {
      const parent = b.parentId !== undefined && !kept.has(b.parentId) ? b.parentId : undefined;
      const missing = parent ?? b.guest.dependencies.find((d) => !kept.has(d));
      if (missing === undefined || b.exists) continue;
      kept.delete(b.id);
      unplaced.push({ guest: b.id, reason: `depends on ${missing}, which cannot be placed`, rejected: {} });
      changed = true;
    }
  }
  return { guests: [...kept.values()], unplaced };
}
