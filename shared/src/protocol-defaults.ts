/**
 * Defaults of the agent ↔ coordinator protocol, in one place: how often agents publish, and when
 * the coordinators call a node down. Agent config, coordinator config and the view all read these.
 */

/** Seconds between heartbeats of an agent. */
export const HEARTBEAT_INTERVAL_SECONDS = 5;

/** A node is down after this many heartbeat intervals of silence. */
export const MISSED_HEARTBEATS = 3;

/** Seconds of silence after which a node is down: `MISSED_HEARTBEATS` × the heartbeat interval. */
export function downAfterSeconds(heartbeatIntervalSeconds = HEARTBEAT_INTERVAL_SECONDS, missed = MISSED_HEARTBEATS): number {
  return heartbeatIntervalSeconds * missed;
}

/** Seconds between telemetry samples of each kind. Guests and storages come from one `pvesh get /cluster/resources`. */
export const TELEMETRY_INTERVAL_SECONDS = {
  node: 5,
  gpu: 5,
  guests: 10,
  storage: 60,
} as const;
