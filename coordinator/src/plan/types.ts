/** Vocabulary of planning: what a plan is made of. */
import type { agentv1 } from '@phoenix/shared';

export type GuestAction = 'create' | 'update' | 'none' | 'delete';

/** One step of a guest's pipeline as the plan shows it. */
export interface PlanStep {
  /** ensure_exists, configure, resize, start, feature:<name>, application, health, template, delete. */
  name: string;
  /** Why this step is needed ("CT 901 does not exist", "memory 2048 → 4096"). */
  reason: string;
  /** Estimated duration on a real node, seconds. */
  estSeconds: number;
}

/** A guest in the plan: where it runs, what it waits for, and what will happen to it. */
export interface PlannedGuest {
  id: string;
  vmid: number;
  node: string;
  action: GuestAction;
  steps: PlanStep[];
  /** Guests that must be converged first (template parents, clone sources, declared dependencies). */
  dependsOn: string[];
  /** An outside precondition it waits for besides guests (an OpenShift cluster's agent ISO). */
  gate?: string;
  /** When created by cloning: the id of the source guest (clones of one source are serialised). */
  cloneSource?: string;
  /** The desired state sent to the agent (absent for deletes). */
  spec?: agentv1.GuestSpec;
}

export interface ScheduleEstimate {
  /** Simulated makespan with the concurrency limits, seconds. */
  makespanSeconds: number;
  /** Lower bound: max(longest dependency chain, busiest node's work / its concurrency). */
  lowerBoundSeconds: number;
  /** Sum of every step run one after another (what a sequential tool does). */
  sequentialSeconds: number;
  /** Guest ids on the longest dependency chain, first to last. */
  criticalPath: string[];
  /** Simulated start and end per guest, seconds from the beginning. */
  timeline: Record<string, { start: number; end: number; node: string }>;
}

export interface Plan {
  guests: PlannedGuest[];
  /** Topological order of guest ids. */
  order: string[];
  estimate: ScheduleEstimate;
}

export interface ConcurrencyLimits {
  /** Pipelines running at once on one node. */
  perNode: number;
}
