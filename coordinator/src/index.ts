export * from './spec/index.js';
export * from './view/index.js';
export * from './scheduler/index.js';
export * from './importers/index.js';
export * from './state/index.js';
export * from './lease/index.js';
export * from './alloc/index.js';
export { AgentClient, agentRunner, idempotencyKey, type AgentEndpoint, type AgentClientOptions } from './agents/index.js';
export { executePlan, type GuestRunner, type GuestOutcome, type ApplyEvent } from './reconcile/execute.js';
export { estimateSchedule, remainingChain } from './reconcile/estimate.js';
export { topologicalOrder } from './reconcile/dag.js';
export { toAgentSpec, type GuestBinding } from './reconcile/agent-spec.js';
export type { Plan, PlannedGuest, PlanStep, ScheduleEstimate, ConcurrencyLimits } from './reconcile/types.js';
export { buildPlan, STEP_SECONDS, type BuiltPlan } from './cluster/plan-build.js';
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
