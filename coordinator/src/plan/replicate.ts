/**
 * Stage 2, replicate: a clone comes from a template guest on its own node, since local storage
 * cannot be cloned across nodes. A template guest that a clone needs elsewhere is rebuilt there as
 * a per-node replica (`<guest>@<node>`), its own template chain with it; a replica found on its
 * node from an earlier apply is taken as existing.
 */
import type { ClusterView } from '../view/types.js';
import { defaultStorage } from './bind.js';
import { isReplica, type BoundGuest } from './stages.js';

function templateGuestOf(b: BoundGuest): string | undefined {
  const t = b.guest.template;
  return t?.kind === 'guest' ? t.guest : undefined;
}

/** Every bound guest with its clone parent set, followed by the replicas they need. */
export function replicate(bound: readonly BoundGuest[], view: ClusterView): BoundGuest[] {
  const byId = new Map(bound.map((b) => [b.id, b]));
  const replicas = new Map<string, BoundGuest>();
  const ensureOn = (templateGuest: string, node: string): string | undefined => {
    const t = byId.get(templateGuest);
    if (!t) return undefined;
    if (t.node === node) return t.id;
    const id = `${templateGuest}@${node}`;
    if (!replicas.has(id)) {
      // The chain is acyclic (compileSpec checks): the parent's replica is added before this one.
      const tg = templateGuestOf(t);
      const parentId = tg ? ensureOn(tg, node) : undefined;
      replicas.set(id, { ...t, id, node, vmid: undefined, exists: false, storage: defaultStorage(view, node), parentId });
    }
    return id;
  };
  const guests = bound.map((b) => {
    const tg = templateGuestOf(b);
    return tg ? { ...b, parentId: ensureOn(tg, b.node) } : b;
  });
  return [...guests, ...[...replicas.values()].map((r) => foundOnNode(r, byId, view))];
}

/** A replica left on its node by an earlier apply: a guest of the same name with another VMID. */
function foundOnNode(r: BoundGuest, originals: ReadonlyMap<string, BoundGuest>, view: ClusterView): BoundGuest {
  if (!isReplica(r)) return r;
  const original = originals.get(r.guest.name)?.vmid ?? 0;
  const found = view.nodes.find((n) => n.name === r.node)?.guests.find((x) => x.name === r.guest.name && x.vmid !== original);
  return found ? { ...r, vmid: found.vmid, exists: true } : r;
}
