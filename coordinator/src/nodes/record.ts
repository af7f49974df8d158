/**
 * What the coordinators know of each node, one key per node in the nodes bucket: the agent's
 * address, the view the leader last built from telemetry, and whether the node is drained. The
 * leader writes address and view; `drain` only ever flips `drained`.
 */
import { z } from 'zod';
import { buckets } from '@phoenix/shared';
import { kvKey, kvPrefix, type StateStore, type TypedBucket } from '../state/index.js';
import { emptyView } from '../view/telemetry.js';
import type { ClusterView, NodeView } from '../view/types.js';

export const nodeRecordSchema = z.object({ address: z.string(), view: z.unknown(), drained: z.boolean().default(false), at: z.number() });
export type NodeRecord = z.infer<typeof nodeRecordSchema>;
export const nodeKey = (node: string): string => kvKey('node', node);

export function nodeBucket(store: StateStore): TypedBucket<NodeRecord> {
  return store.bucket(buckets.nodes, nodeRecordSchema);
}

/** Names of the nodes drained now. */
export async function drainedNodes(store: StateStore): Promise<Set<string>> {
  const entries = await nodeBucket(store).list(kvPrefix('node'));
  return new Set(entries.filter((e) => e.value.drained).map((e) => (e.value.view as NodeView).name));
}

/** The view as the leader last wrote it, for CLIs and standbys. */
export async function readStoredView(store: StateStore, cluster: string): Promise<{ view: ClusterView; addresses: Map<string, string>; drained: Set<string> }> {
  const entries = await nodeBucket(store).list(kvPrefix('node'));
  const addresses = new Map<string, string>();
  const drained = new Set<string>();
  const nodes: NodeView[] = [];
  for (const e of entries) {
    const n = e.value.view as NodeView;
    nodes.push(n);
    addresses.set(n.name, e.value.address);
    if (e.value.drained) drained.add(n.name);
  }
  nodes.sort((a, b) => a.name.localeCompare(b.name));
  return { view: { ...emptyView({ cluster, now: Date.now() }), nodes }, addresses, drained };
}
