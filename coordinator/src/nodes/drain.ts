/**
 * `drain`: takes a node out of placement (or back in with `undo`). The leader reads the flag when
 * it plans, so an apply after a drain places nothing new there; guests already on it stay.
 */
import { NotFoundError } from '@phoenix/shared';
import type { StateStore } from '../state/index.js';
import { nodeBucket, nodeKey } from './record.js';

export interface DrainResult {
  node: string;
  drained: boolean;
  /** Guests on the node as last observed: what still needs moving before maintenance. */
  guests: { vmid: number; name?: string; status: string }[];
}

export async function setDrained(store: StateStore, node: string, drained: boolean): Promise<DrainResult> {
  const updated = await nodeBucket(store).update(nodeKey(node), (cur) => {
    if (!cur) throw new NotFoundError(`node '${node}' is not known to the coordinators`);
    return { ...cur.value, drained };
  });
  const guests = (updated?.value.view as { guests?: DrainResult['guests'] } | undefined)?.guests ?? [];
  return { node, drained, guests: guests.map((g) => ({ vmid: g.vmid, ...(g.name ? { name: g.name } : {}), status: g.status })) };
}
