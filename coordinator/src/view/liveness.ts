/** Up or down from heartbeats: a pure function of (last heartbeat, now). */
import { downAfterSeconds, HEARTBEAT_INTERVAL_SECONDS, MISSED_HEARTBEATS } from '@phoenix/shared';
import type { ClusterView, NodeView } from './types.js';

export type Liveness = 'up' | 'down' | 'unknown';

export const DEFAULT_HEARTBEAT_INTERVAL_MS = HEARTBEAT_INTERVAL_SECONDS * 1000;
export const DEFAULT_MISSED_HEARTBEATS = MISSED_HEARTBEATS;

/**
 * A node is up while its last heartbeat is at most `missed` intervals old, down after that, and
 * unknown when it never sent one. A heartbeat from the future (clock skew) counts as fresh.
 */
export function liveness(
  lastHeartbeat: number | undefined,
  now: number,
  intervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS,
  missed = DEFAULT_MISSED_HEARTBEATS,
): Liveness {
  if (lastHeartbeat === undefined) return 'unknown';
  return now - lastHeartbeat > downAfterSeconds(intervalMs / 1000, missed) * 1000 ? 'down' : 'up';
}

/** The status the scheduler uses: a stated status wins; otherwise only a fresh heartbeat is up. */
export function nodeStatus(view: ClusterView, node: NodeView): 'up' | 'down' {
  if (node.statusOverride !== undefined) return node.statusOverride;
  return liveness(node.lastHeartbeat, view.observedAt, view.heartbeatIntervalMs, view.missedHeartbeats) === 'up'
    ? 'up'
    : 'down';
}

/**
 * The view with drained nodes marked down, so that nothing new is placed on them. Guests already
 * there stay in the view: they are still found where they are, and kept there.
 */
export function markDrained(view: ClusterView, drained: ReadonlySet<string>): ClusterView {
  if (drained.size === 0) return view;
  return { ...view, nodes: view.nodes.map((n) => (drained.has(n.name) ? { ...n, statusOverride: 'down' as const } : n)) };
}
