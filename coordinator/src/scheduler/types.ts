/** Inputs and outputs of schedule(): plain data, no classes, safe to serialise. */
import type { SchedulingSpec } from '../spec/scheduling.js';

/** Where a clone comes from: a file (OS template, cloud image) or a template guest's snapshot. */
export type TemplateRef =
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'guest'; readonly guest: string; readonly snapshot?: string | undefined };

export interface GpuNeed {
  readonly count: number;
  /** Matched word-wise and case-insensitively against the GPU name ("H100" ⊂ "NVIDIA H100 80GB HBM3"). */
  readonly model?: string | undefined;
  /** Per GPU; reserved on the chosen GPUs. */
  readonly minFreeMemoryMiB?: number | undefined;
  readonly maxUtilizationPct?: number | undefined;
  /** Exactly these GPU indices. */
  readonly devices?: readonly number[] | undefined;
  /** pci passthrough: the GPUs must be unused and become the guest's alone. */
  readonly exclusive: boolean;
}

export interface DiskNeed {
  /** Proxmox storage id; undefined lets the scheduler pick one with the right content type. */
  readonly storage?: string | undefined;
  readonly sizeGiB: number;
}

export interface PendingGuest {
  readonly name: string;
  readonly kind: 'container' | 'vm';
  readonly cores: number;
  readonly memoryMiB: number;
  /** Root disk first, then volumes. */
  readonly disks: readonly DiskNeed[];
  readonly gpu?: GpuNeed | undefined;
  /** Pinned node. */
  readonly node?: string | undefined;
  /** The node must carry every one of these labels. */
  readonly labels?: Readonly<Record<string, string>> | undefined;
  /** No two guests of one group on a node (existing guests included, via GuestView.groups). */
  readonly antiAffinity?: readonly string[] | undefined;
  readonly template?: TemplateRef | undefined;
}

export interface SchedulePolicy {
  readonly strategy: 'binpack' | 'spread';
  readonly weights: { readonly cpu: number; readonly memory: number; readonly gpu: number; readonly storage: number };
  readonly overcommit: { readonly cpu: number; readonly memory: number };
  readonly templateCopies: 'allow' | 'deny';
  readonly templateCopyCost: number;
  readonly gpuNodePenalty: number;
}

export const DEFAULT_POLICY: SchedulePolicy = {
  strategy: 'binpack',
  weights: { cpu: 1, memory: 1, gpu: 1, storage: 0.5 },
  overcommit: { cpu: 4, memory: 1 },
  templateCopies: 'allow',
  templateCopyCost: 0.25,
  gpuNodePenalty: 0.1,
};

export function policyFromSpec(s: SchedulingSpec): SchedulePolicy {
  return {
    strategy: s.strategy,
    weights: { ...s.weights },
    overcommit: { ...s.overcommit },
    templateCopies: s.templateCopies,
    templateCopyCost: s.templateCopyCost,
    gpuNodePenalty: s.gpuNodePenalty,
  };
}

/** The filters, in the order every node is checked. */
export const FILTERS = [
  'pinned',
  'node-down',
  'labels',
  'anti-affinity',
  'template',
  'cpu',
  'memory',
  'storage',
  'gpu',
] as const;
export type FilterName = (typeof FILTERS)[number];

export interface Placement {
  readonly guest: string;
  readonly node: string;
  /** What the guest adds to the plan's objective on this node, all other guests in place. */
  readonly score: number;
  /** Storage chosen for each disk, in the order of PendingGuest.disks. */
  readonly storages: readonly string[];
  /** GPU indices given to the guest. */
  readonly gpus: readonly number[];
  /** The template is not on the node yet: it is copied (or downloaded) there first; clones on one node share the copy. */
  readonly templateCopy: boolean;
}

export interface Unplaced {
  readonly guest: string;
  readonly reason: string;
  readonly rejected: Readonly<Partial<Record<FilterName, number>>>;
}

export interface NodeVerdict {
  readonly node: string;
  readonly verdict: 'chosen' | 'feasible' | 'rejected';
  /** The first filter that rejected the node. */
  readonly filter?: FilterName | undefined;
  /** Why, with the numbers ("memory: needs 8192 MiB, 3072 MiB free"), or the score breakdown. */
  readonly message: string;
  readonly score?: number | undefined;
}

/**
 * The record kept for every guest. For a placed guest the counts are those of its first decision
 * (the improvement phase may have moved it since; node and score are final); for an unplaced one
 * they are exact, against the final plan. Per-node verdicts only when asked for (detail: 'nodes').
 */
export interface Decision {
  readonly guest: string;
  readonly node: string | undefined;
  readonly score: number | undefined;
  /** Nodes that passed every filter. */
  readonly feasible: number;
  /** Nodes rejected, by the first filter that failed. */
  readonly rejected: Readonly<Partial<Record<FilterName, number>>>;
  readonly nodes?: readonly NodeVerdict[] | undefined;
}

export interface ScheduleResult {
  /** In decision order (template parents before their clones). */
  readonly placements: readonly Placement[];
  readonly unplaced: readonly Unplaced[];
  readonly reasons: ReadonlyMap<string, Decision>;
}

export interface ScheduleOptions {
  /** 'nodes' records a verdict for every node in every Decision (for small clusters and tests). */
  readonly detail?: 'summary' | 'nodes' | undefined;
  /**
   * 'classes' (default) skips untouched nodes that are interchangeable with one already looked at;
   * 'every-node' looks at each node. Both give the same result; the second exists to prove it.
   */
  readonly scan?: 'classes' | 'every-node' | undefined;
  /**
   * The improvement phase after the greedy pass: false turns it off; maxEvaluations bounds the
   * node evaluations it may spend (default 3,000,000). Counted, never timed, so results stay
   * deterministic.
   */
  readonly improve?:
    | false
    | {
        readonly maxEvaluations?: number | undefined;
        /** Exact branch-and-bound for batches of up to 10 movable guests (default true). */
        readonly exactSearch?: boolean | undefined;
      }
    | undefined;
}

export interface Explanation {
  readonly guest: string;
  readonly decision: Decision;
  /** Every node: the chosen one first, then feasible ones by score, then rejected ones by name. */
  readonly nodes: readonly NodeVerdict[];
}
