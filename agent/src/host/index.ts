export { setupHost, type SetupHostOptions } from './setup.js';
export { planHost, sameZfsValue } from './plan.js';
export { validateHostSpec, MIN_DISKS } from './validate.js';
export { UnsafeDiskError } from './errors.js';
export { observeHost, type HostIo } from './observe.js';
export { lineDiff } from './diff.js';
export type { HostAction, HostPlan, HostDrift, HostRefusal, ObservedHost, DiskState, StorageState, DirState } from './types.js';
export { HOST_FILES } from './types.js';
