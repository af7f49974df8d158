/**
 * The state of one scheduling run, shared by its phases: the cluster's capacity (ClusterState),
 * where each request stands, the scan caches and change log, the evaluation budget, and the
 * scratch that evaluate() leaves for the node it last accepted. Every phase is a set of functions
 * over this object (filters.ts, scan.ts, moves.ts, improve.ts, exact.ts, explain.ts).
 */
import { InvalidArgumentError } from '@phoenix/shared';
import type { ClusterView } from '../view/types.js';
import { buildRequests, FILTER_COUNT, type Req } from './requests.js';
import { ClusterState } from './state.js';
import type { FilterName, PendingGuest, ScheduleOptions, SchedulePolicy } from './types.js';

/** evaluate()'s answer for a node that passes every filter (otherwise the failing filter's index). */
export const FEASIBLE = -1;
/** Node evaluations the improvement phase may spend (about 0.1–0.3 s). */
export const DEFAULT_IMPROVE_BUDGET = 3_000_000;
/** The least score change that counts as a gain (against rounding noise). */
export const GAIN = 1e-9;


/**
 * A scan remembered for one request shape. Every node outside `nodes` scores at most `threshold`
 * or is infeasible; nodes changed since (the log after logPos) are judged again. Only valid within
 * one state epoch (see ClusterState.epoch).
 */
export interface ScanCache {
  readonly nodes: number[];
  readonly scores: number[];
  threshold: number;
  logPos: number;
  readonly epoch: string;
  readonly counts: Int32Array;
  readonly feasible: number;
}

/** Nodes a scan remembers, and the most changed nodes a remembered scan is brought up to date with. */
export const CACHE_NODES = 64;
export const CACHE_MAX_CHANGED = 1024;

export interface Snapshot {
  readonly assign: Int32Array;
  readonly disks: (Int32Array | null)[];
  readonly gpus: (Int32Array | null)[];
}

export class Run {
  readonly state: ClusterState;
  readonly reqs: Req[];
  readonly sign: number;
  /** 1 / Σ weights: every guest's score is on the same scale, so scores add up to J. */
  readonly invW: number;
  readonly counts = new Int32Array(FILTER_COUNT);
  readonly detailAll: boolean;
  readonly useClasses: boolean;
  readonly useCache: boolean;
  /** Per request shape: the best nodes of its last full scan, kept current from the change log. */
  readonly cache = new Map<string, ScanCache>();
  /** Nodes changed by commit/uncommit, in order. */
  log = new Int32Array(1024);
  logLen = 0;
  readonly seen: Int32Array;
  seenStamp = 0;
  readonly exactSearch: boolean;
  budget: number;
  // Scratch written by evaluate() for the node it last accepted.
  score = 0;
  copy = false;
  message = '';
  diskEntry: Int32Array = new Int32Array(4);
  gpuPick: Int32Array = new Int32Array(8);
  gpuPicked = 0;
  bestScore = -Infinity;
  readonly unplacedNames = new Set<string>();
  // Where each request stands (index into reqs).
  readonly assign: Int32Array;
  readonly disksOf: (Int32Array | null)[];
  readonly gpusOf: (Int32Array | null)[];
  readonly gpuTaken: (Float64Array | null)[];
  readonly copyOf: Uint8Array;
  readonly first: { feasible: number; rejected: Partial<Record<FilterName, number>> }[];

  constructor(
    view: ClusterView,
    pending: readonly PendingGuest[],
    readonly policy: SchedulePolicy,
    options: ScheduleOptions,
  ) {
    const names = new Set<string>();
    pending.forEach((g, i) => {
      if (names.has(g.name)) throw new InvalidArgumentError(`pending.${i}.name`, g.name, 'duplicate guest name');
      names.add(g.name);
    });
    this.detailAll = options.detail === 'nodes';
    this.useClasses = options.scan !== 'every-node';
    this.useCache = options.scan !== 'every-node';
    this.budget = options.improve === false ? 0 : (options.improve?.maxEvaluations ?? DEFAULT_IMPROVE_BUDGET);
    this.exactSearch = options.improve === false ? false : (options.improve?.exactSearch ?? true);
    this.state = new ClusterState(view, policy);
    this.reqs = buildRequests(this.state, pending);
    this.seen = new Int32Array(this.state.n);
    this.sign = policy.strategy === 'binpack' ? 1 : -1;
    const w = policy.weights;
    const wsum = w.cpu + w.memory + w.gpu + w.storage;
    // weights that add up to (almost) nothing leave only the penalties
    this.invW = wsum > 1e-9 ? 1 / wsum : 0;
    const r = this.reqs.length;
    this.assign = new Int32Array(r).fill(-1);
    this.disksOf = new Array<Int32Array | null>(r).fill(null);
    this.gpusOf = new Array<Int32Array | null>(r).fill(null);
    this.gpuTaken = new Array<Float64Array | null>(r).fill(null);
    this.copyOf = new Uint8Array(r);
    this.first = new Array(r);
  }

  fastFeasible = 0;
  fastBest = -Infinity;
  chosenSlot = new Int32Array(4);
  readonly topNodes = new Int32Array(CACHE_NODES);
  readonly topScores = new Float64Array(CACHE_NODES);
  visit = new Int32Array(0);
  visitWeight = new Int32Array(0);
}
