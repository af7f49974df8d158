/** Public surface of @phoenix/agent: the daemon, its config and the pieces other packages test against. */
export { main } from './main.js';
export { AgentDaemon, type BackendFactory, type DaemonOptions } from './daemon.js';
export { Lifecycle, type DaemonState } from '@phoenix/shared';
export { AGENT_VERSION } from './version.js';
export * from './config/index.js';
export type { NodeBackend, MutationOptions, MutationResult, ProgressSink, NodeFacts } from './grpc/backend.js';
export { AGENT_SERVICE_NAME } from './grpc/server.js';
export type { OperationRecord, OperationPhase } from './journal/store.js';
