/** Types of the guest pipeline's public API (see index.ts for the operations). */
import type { Logger, agentv1, commonv1 } from '@phoenix/shared';
import type { NodeDrivers } from '../drivers/types.js';

/** One progress event. `log` events carry a script's output line (state stays 'started'). */
export interface PipelineEvent {
  /** ensure_exists, recover, configure, resize, start, feature:<name>, application, health, template … */
  step: string;
  state: 'started' | 'done' | 'skipped' | 'failed';
  message: string;
  /** Whether the step changed (or, in a dry run, would change) anything on the node. */
  changed: boolean;
  percent?: number;
  log?: { line: string; stderr: boolean };
}

export interface PipelineResult {
  changed: boolean;
  changedSteps: string[];
  guest: commonv1.GuestSummary;
}

export interface PipelineOptions {
  signal: AbortSignal;
  emit(e: PipelineEvent): void;
  /**
   * True when an operation other than the calling one is running on this VMID (the daemon's
   * journal). Used to tell a live PVE lock from one left by a dead agent. Wins over the deps one.
   */
  isOperationActive?: (vmid: number) => boolean;
}

export interface EnsureOptions extends PipelineOptions {
  /** Compute and stream the steps without changing anything. */
  dryRun?: boolean;
}

/** Waits and retries, all in milliseconds. Tests shrink them. */
export interface PipelineTiming {
  startAttempts: number;
  startBackoffMs: number;
  healthRetriesDefault: number;
  healthIntervalMsDefault: number;
  agentPingAttempts: number;
  agentPingIntervalMs: number;
  /** How long to wait for a lock held by a running operation before giving up. */
  lockWaitMs: number;
  lockPollMs: number;
  shutdownTimeoutSeconds: number;
  featureTimeoutMs: number;
}

export const DEFAULT_TIMING: PipelineTiming = {
  startAttempts: 3,
  startBackoffMs: 2_000,
  healthRetriesDefault: 3,
  healthIntervalMsDefault: 5_000,
  agentPingAttempts: 60,
  agentPingIntervalMs: 5_000,
  lockWaitMs: 120_000,
  lockPollMs: 1_000,
  shutdownTimeoutSeconds: 60,
  featureTimeoutMs: 60 * 60_000,
};

export interface GuestPipelineDeps {
  drivers: NodeDrivers;
  logger: Logger;
  /** agent/features by default. */
  featuresDir?: string;
  /** Node name; defaults to drivers.node. */
  node?: string;
  /**
   * True while an operation other than the calling one runs on this VMID (the daemon's journal).
   * PVE locks on VMIDs for which neither this nor the pipeline's own in-flight registry knows a
   * running operation are treated as left by a dead process and cleared.
   */
  isOperationActive?: (vmid: number) => boolean;
  timing?: Partial<PipelineTiming>;
  /**
   * How GPUs reach a container: `dev` (`devN: /dev/nvidia0` entries, PVE ≥ 8.1, handled by the
   * API) or `raw` (`lxc.cgroup2.devices.allow` + `lxc.mount.entry` lines). @default "dev"
   */
  gpuMode?: 'dev' | 'raw';
}

export type GuestSpec = agentv1.GuestSpec;
export type GuestSummary = commonv1.GuestSummary;
