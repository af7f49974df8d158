/** Up or down from heartbeats: a pure function of (last heartbeat, now). */
import type { ClusterView, NodeView } from './types.js';

export type Liveness = 'up' | 'down' | 'unknown';

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
export const DEFAULT_MISSED_HEARTBEATS = 3;

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
  return now - lastHeartbeat > missed * intervalMs ? 'down' : 'up';
}

/** The status the scheduler uses: a stated status wins; otherwise only a fresh heartbeat is up. */
export function nodeStatus(view: ClusterView, node: NodeView): 'up' | 'down' {
  if (node.statusOverride !== undefined) return node.statusOverride;
  return liveness(node.lastHeartbeat, view.observedAt, view.heartbeatIntervalMs, view.missedHeartbeats) === 'up'
    ? 'up'
    : 'down';
}
