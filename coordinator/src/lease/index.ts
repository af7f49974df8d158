export { DEFAULT_LEADER_KEY, LeaderElection, NotLeaderError, leaseRecordSchema } from './election.js';
export type {
  ElectionEvents,
  ElectionState,
  ElectionStats,
  LeaderElectionOptions,
  LeaseRecord,
  LossReason,
} from './election.js';
export { realTimers } from './timers.js';
export type { Timers } from './timers.js';
