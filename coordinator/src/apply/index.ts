/**
 * Execution of a plan: the executor (dependency order, per-node limits, per-source clone queues,
 * the journal that lets another coordinator resume) and the runner that drives the agents.
 */
export { executePlan, type ApplyEvent, type ApplyJournal, type ExecuteOptions, type GuestOutcome, type GuestRunner } from './execute.js';
export { agentRunner, idempotencyKey } from './runner.js';
export { executeWithOpenShift } from './openshift.js';
export type { ClusterEvent, ClusterOutcome, ExecuteWithOpenShiftOptions, OpenShiftDriver } from './openshift.js';
