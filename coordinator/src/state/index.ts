export { KEEP, REMOVE, TypedBucket } from './bucket.js';
export type { CreateOutcome, RetryOptions, UpdateOutcome, Updater, Versioned } from './bucket.js';
export { FEATURE_MIN_VERSION, parseServerVersion, serverCapabilities, versionAtLeast } from './capabilities.js';
export type { ServerCapabilities, ServerVersion } from './capabilities.js';
export { CorruptValueError, isCasConflict, natsFailure } from './errors.js';
export {
  ApplyJournal,
  StaleFencingTokenError,
  StepOwnedError,
  idempotencyKeyFor,
  runRecordSchema,
  runStateSchema,
  stepRecordSchema,
  stepStateSchema,
} from './journal.js';
export type { JournalActor, RunRecord, RunState, StepHandle, StepRecord, StepState } from './journal.js';
export { RunJournal } from './run-journal.js';
export type { GuestOutcomeLike } from './run-journal.js';
export { decodeKeyToken, encodeKeyToken, isValidKvKey, kvKey, kvPrefix, parseKvKey } from './keys.js';
export {
  DEFAULT_CAS_RETRIES,
  DEFAULT_HISTORY,
  DEFAULT_LEASE_TTL_MS,
  MIN_LEASE_TTL_MS,
  STATE_BUCKETS,
  StateStore,
} from './store.js';
export type { StateStoreOptions } from './store.js';
export { openshiftRecordKey, openshiftRecordSchema, openshiftRecords, readOpenShiftRecords, updateOpenShiftRecord } from './openshift-records.js';
export type { OpenShiftRecord, OpenShiftRecordFields } from './openshift-records.js';
