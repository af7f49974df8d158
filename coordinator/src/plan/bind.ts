/**
 * Stage 1, bind: the spec against the observed cluster. Each guest the spec names is either found
 * on a node (by its fixed VMID, else by name) or placed by the pure scheduler; guests the scheduler
 * cannot place are reported and left out.
 */
import { schedule, schedulerInput, policyFromSpec, type Placement, type Unplaced } from '../scheduler/index.js';
import type { CompiledSpec } from '../spec/compile.js';
import type { ClusterView } from '../view/types.js';
import type { BoundGuest } from './stages.js';

export interface Binding {
  /** In build order: template guests and dependencies before the guests that need them. */
  readonly guests: readonly BoundGuest[];
  readonly placements: readonly Placement[];
  readonly unplaced: readonly Unplaced[];
}

/** The storage for root disks on a node when neither the scheduler nor the spec names one. */
export function defaultStorage(view: ClusterView, node: string): string {
  return view.nodes.find((n) => n.name === node)?.storages.find((s) => s.content.includes('rootdir'))?.id ?? 'local-zfs';
}

export function bind(spec: CompiledSpec, view: ClusterView): Binding {
  const input = schedulerInput(spec, view);
  const result = schedule(input.view, input.pending, policyFromSpec(spec.scheduling));
  const placed = new Map(result.placements.map((p) => [p.guest, p]));
  const existing = new Map(input.existing.map((e) => [e.guest, e]));
  const byName = new Map(spec.guests.map((g) => [g.name, g]));
  const guests: BoundGuest[] = [];
  for (const name of spec.buildOrder) {
    const g = byName.get(name)!;
    const ex = existing.get(name);
    const p = placed.get(name);
    if (!ex && !p) continue; // unplaced: reported by the scheduler
    const node = ex?.node ?? p!.node;
    guests.push({
      guest: g,
      id: name,
      node,
      vmid: ex?.vmid ?? g.vmid,
      exists: ex !== undefined,
      storage: p?.storages[0] ?? g.storage ?? defaultStorage(view, node),
      gpus: p?.gpus ?? g.gpu?.devices ?? [],
      parentId: undefined,
    });
  }
  return { guests, placements: result.placements, unplaced: result.unplaced };
}
