/**
 * What differs between a container and a VM, behind one interface: the tool (pct or qm), how a
 * new guest is made from its own kind of source, the configuration diff, how a command runs
 * inside, how a file gets there, and what "ready" means after a start. ensure.ts, the tail and
 * every single-step operation run over this interface; lxc-kind.ts and vm-kind.ts implement it.
 */
import type { commonv1 } from '@phoenix/shared';
import type { ExecResult, GuestConfig, GuestToolDriver, NodeDrivers } from '../drivers/types.js';
import type { PipelineContext } from './context.js';
import type { StepContext } from './steps.js';
import type { EnsureOptions, GuestSpec } from './types.js';

export type Kind = 'lxc' | 'vm';

type Signal = { signal?: AbortSignal };

export interface ExecRequest {
  /** false for probes (health checks): not counted as a mutating call. */
  mutating: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
  input?: string;
}

/** The difference between a spec and a live config, in one shape for both kinds. */
export interface GuestChanges {
  /** Keys of the one `pct set`/`qm set`, and keys it deletes. */
  set: Record<string, string>;
  delete: string[];
  /** Grow-only disk resizes: disk key and absolute size. */
  resize: Array<{ disk: string; size: string }>;
  /** One line per change, for events. */
  summary: string[];
  /** Whether the configure step has anything to do (set, delete, or a kind's own extra). */
  configures: boolean;
  /** A running guest only picks these changes up on restart. */
  needsRestart: boolean;
  /** Applies the configuration part (set/delete plus the kind's extra: raw lines, cloud-init). */
  apply(o: Signal): Promise<void>;
}

/** Per-spec decisions of a kind, taken before the first change (GPU devices, the node's driver). */
export interface GuestPlan {
  /** Whether the guest gets GPUs (features that need one check this). */
  hasGpu: boolean;
  /** The NVIDIA driver version features install against (containers share the node's). */
  nodeDriverVersion: string | undefined;
  /** The changes a live config needs; throws InvalidArgumentError for impossible ones (a shrink). */
  diff(cfg: GuestConfig): GuestChanges;
  /**
   * Creates the guest from its own source (OS template, cloud image, install ISO) and returns what it
   * did; in a dry run only what it would do.
   */
  create(ctx: StepContext, o: EnsureOptions): Promise<string>;
  /** Checks that needs both the features and the live config (a VM's features need its agent). */
  checkFeatures(featureCount: number, cfg: GuestConfig | undefined): void;
}

export interface GuestKindDriver {
  kind: Kind;
  word: 'CT' | 'VM';
  /** The guest type of the agent API. */
  type: commonv1.GuestType;
  /** The noun of error messages ("a container", "a VM"). */
  noun: string;
  /** `pvesh get /nodes/<node>/<apiPath>` lists the guests of this kind. */
  apiPath: 'lxc' | 'qemu';
  /** Locks only a dead Phoenix operation can have left (checked by recoverInterrupted). */
  orphanLocks: readonly string[];
  tool(d: NodeDrivers): GuestToolDriver;
  plan(c: PipelineContext, spec: GuestSpec, cfg: GuestConfig | undefined, o: EnsureOptions): Promise<GuestPlan>;
  exec(c: PipelineContext, vmid: number, command: readonly string[], r: ExecRequest): Promise<ExecResult>;
  /** Writes a file in the guest. */
  push(c: PipelineContext, vmid: number, path: string, content: Buffer | string, mode: string, o: Signal): Promise<void>;
  /** After a start: waits until the guest can run commands the way this kind runs them. */
  waitReady(c: PipelineContext, spec: GuestSpec, progress: StepContext['progress'], o: Signal): Promise<void>;
  /** Whether a live config passes GPUs through (for RunFeatures on an existing guest). */
  configHasGpu(cfg: GuestConfig): boolean;
  nodeDriverVersion(c: PipelineContext): Promise<string | undefined>;
}
