export * from './spec/index.js';
export * from './view/index.js';
export * from './scheduler/index.js';
export * from './importers/index.js';
export * from './openshift/index.js';
export * from './state/index.js';
export * from './lease/index.js';
export * from './alloc/index.js';
export { AgentClient, type AgentEndpoint, type AgentClientOptions } from './agents/index.js';
export { agentRunner, executePlan, idempotencyKey, type GuestRunner, type GuestOutcome, type ApplyEvent } from './apply/index.js';
export {
  buildPlan,
  estimateSchedule,
  remainingChain,
  topologicalOrder,
  toAgentSpec,
  STEP_SECONDS,
  type BuiltPlan,
  type GuestBinding,
  type Plan,
  type PlannedGuest,
  type PlanStep,
  type ScheduleEstimate,
  type ConcurrencyLimits,
} from './plan/index.js';
export { loadContext, connectNats, contextSchema, type ClusterContext } from './context/index.js';
export { submitRequest, sweepFinishedRequests, RequestQueue, type ApplyRequest, type RunEvent } from './requests/index.js';
export { readStoredView, setDrained, drainedNodes, type DrainResult } from './nodes/index.js';
export { ViewKeeper } from './daemon/view-keeper.js';
export { CoordinatorDaemon } from './daemon/daemon.js';
export {
  COORDINATOR_DEFAULTS,
  coordinatorConfigSchema,
  loadCoordinatorConfig,
  parseCoordinatorConfig,
  type CompiledCoordinatorConfig,
  type CoordinatorConfig,
  type CoordinatorConfigInput,
} from './daemon/config.js';
