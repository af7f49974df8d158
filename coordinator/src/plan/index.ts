/**
 * Planning: desired state minus observed state → a plan, as pure stages, each producing complete
 * data for the next: bind (where each guest is or goes) → replicate (template guests rebuilt on
 * the nodes their clones need them) → prune (guests whose dependencies cannot be planned) →
 * allocate (VMIDs, addresses, MACs) → translate (steps, dependencies and agent specs).
 */
import type { Placement, Unplaced } from '../scheduler/index.js';
import type { CompiledSpec } from '../spec/compile.js';
import type { ClusterView } from '../view/types.js';
import { allocate, type GuestAllocator } from './allocate.js';
import { bind } from './bind.js';
import { topologicalOrder } from './dag.js';
import { estimateSchedule } from './estimate.js';
import { planOpenShift, type OpenShiftInstallRecord, type PlannedCluster } from './openshift.js';
import { prune } from './prune.js';
import { replicate } from './replicate.js';
import { translate, type TranslateOptions } from './translate.js';
import type { ConcurrencyLimits, Plan } from './types.js';

export interface BuildPlanOptions extends TranslateOptions {
  limits: ConcurrencyLimits;
  /** Allocates for real (apply); without it VMIDs/addresses are previewed and nothing is written. */
  allocator?: GuestAllocator;
  /** What the leader recorded of earlier OpenShift installs (observed state). */
  openshiftRecords?: ReadonlyMap<string, OpenShiftInstallRecord>;
}

export interface BuiltPlan extends Plan {
  placements: readonly Placement[];
  unplaced: readonly Unplaced[];
  openshift: readonly PlannedCluster[];
}

export async function buildPlan(spec: CompiledSpec, view: ClusterView, options: BuildPlanOptions): Promise<BuiltPlan> {
  const binding = bind(spec, view);
  const pruned = prune(replicate(binding.guests, view), spec.openshift);
  const allocated = await allocate(spec, pruned.guests, view, options.allocator);
  const openshift = planOpenShift(spec, allocated, options.openshiftRecords ?? new Map());
  const guests = translate(spec, allocated, openshift, options);
  const order = topologicalOrder(guests);
  const byId = new Map(guests.map((g) => [g.id, g]));
  const sorted = order.map((id) => byId.get(id)!);
  return {
    guests: sorted,
    order,
    estimate: estimateSchedule(sorted, options.limits),
    placements: binding.placements,
    unplaced: [...binding.unplaced, ...pruned.unplaced],
    openshift,
  };
}

export { STEP_SECONDS } from './steps.js';
export { toAgentSpec, type GuestBinding } from './agent-spec.js';
export { topologicalOrder } from './dag.js';
export { estimateSchedule, remainingChain } from './estimate.js';
export type { GuestAllocator } from './allocate.js';
export { OPENSHIFT_STEP_SECONDS, agentIsoFile, openshiftGate } from './openshift.js';
export type { OpenShiftInstallRecord, PlannedCluster, PlannedHost } from './openshift.js';
export type { ConcurrencyLimits, GuestAction, Plan, PlannedGuest, PlanStep, ScheduleEstimate } from './types.js';
