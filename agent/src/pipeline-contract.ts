/**
 * The guest pipeline's API as the daemon uses it (`createGuestPipeline` in ./pipeline/). Kept as a
 * structural type so the backend adapter states exactly what it relies on.
 */
import type { agentv1, commonv1 } from '@phoenix/shared';

export type PipelineEvent =
  | { type: 'step'; step: string; state: agentv1.StepState; message?: string; changed?: boolean; percent?: number }
  | { type: 'log'; step: string; line: string; stderr?: boolean };

export interface PipelineCallOptions {
  signal: AbortSignal;
  emit(event: PipelineEvent): void;
}

export interface PipelineResult {
  changed: boolean;
  changedSteps: string[];
  guest?: commonv1.GuestSummary | undefined;
}

export interface GuestPipelineLike {
  ensure(spec: agentv1.GuestSpec, options: PipelineCallOptions & { dryRun: boolean }): Promise<PipelineResult>;
  create(spec: agentv1.GuestSpec, options: PipelineCallOptions): Promise<PipelineResult>;
  clone(spec: agentv1.GuestSpec, options: PipelineCallOptions): Promise<PipelineResult>;
  configure(spec: agentv1.GuestSpec, options: PipelineCallOptions): Promise<PipelineResult>;
  start(vmid: number, options: PipelineCallOptions): Promise<PipelineResult>;
  stop(vmid: number, options: PipelineCallOptions & { shutdownTimeoutSeconds: number }): Promise<PipelineResult>;
  remove(vmid: number, options: PipelineCallOptions & { force: boolean; purge: boolean }): Promise<PipelineResult>;
  snapshot(vmid: number, name: string, options: PipelineCallOptions & { description: string }): Promise<PipelineResult>;
  rollback(vmid: number, name: string, options: PipelineCallOptions & { start: boolean }): Promise<PipelineResult>;
  exec(
    vmid: number,
    command: string[],
    options: PipelineCallOptions & { stdin: Buffer; timeoutSeconds: number },
  ): Promise<{ exitCode: number; stdout: string | Buffer; stderr: string | Buffer }>;
  push(vmid: number, path: string, content: Buffer, options: PipelineCallOptions & { mode: string }): Promise<PipelineResult>;
  runFeatures(vmid: number, features: agentv1.FeatureRef[], options: PipelineCallOptions): Promise<PipelineResult>;
  listGuests(options: { signal: AbortSignal }): Promise<commonv1.GuestSummary[]>;
  getGuest(vmid: number, options: { signal: AbortSignal }): Promise<agentv1.GetGuestResponse>;
  recoverInterrupted(
    operations: Array<{ id: string; key: string; kind: string; vmid: number }>,
    options: { signal: AbortSignal },
  ): Promise<{ actions: string[] }>;
}
