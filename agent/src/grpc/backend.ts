/**
 * What the gRPC service needs from the node, in the API's own types. The daemon implements it with
 * the guest pipeline and the drivers (`../node-backend.ts`); unit tests use a fake. Every mutating
 * method takes the operation's AbortSignal (which kills the tool's whole process group) and a
 * progress sink for streamed steps and output lines.
 */
import type { agentv1, commonv1 } from '@phoenix/shared';

export interface ProgressSink {
  step(progress: Partial<agentv1.StepProgress> & { step: string }): void;
  log(line: Partial<agentv1.LogLine> & { line: string }): void;
}

export interface MutationOptions {
  signal: AbortSignal;
  progress: ProgressSink;
  /** True when another running operation holds guest `vmid`: its PVE locks are live, not stale. */
  isOperationActive?: (vmid: number) => boolean;
}

/** What a mutation reports: whether it changed anything, which steps did, and the guest after it. */
export interface MutationResult {
  changed: boolean;
  changedSteps: string[];
  guest?: commonv1.GuestSummary | undefined;
}

export interface NodeFacts {
  pveVersion: string;
  bridges: string[];
  nvidiaDriverVersion: string;
  nvidiaDevices: agentv1.DeviceNode[];
}

/** An operation found interrupted at start-up, handed to the pipeline's recovery. */
export interface InterruptedOperation {
  id: string;
  key: string;
  kind: string;
  vmid: number;
}

export interface RecoveryReport {
  /** One line per guest the recovery looked at or repaired (for the log). */
  actions: string[];
}

export interface NodeBackend {
  facts(signal: AbortSignal): Promise<NodeFacts>;
  listGpus(signal: AbortSignal): Promise<commonv1.Gpu[]>;
  listStorages(signal: AbortSignal): Promise<commonv1.Storage[]>;
  listGuests(signal: AbortSignal): Promise<commonv1.GuestSummary[]>;
  getGuest(vmid: number, signal: AbortSignal): Promise<agentv1.GetGuestResponse>;

  ensureGuest(spec: agentv1.GuestSpec, options: MutationOptions & { dryRun: boolean }): Promise<MutationResult>;
  createGuest(spec: agentv1.GuestSpec, options: MutationOptions): Promise<MutationResult>;
  cloneGuest(spec: agentv1.GuestSpec, options: MutationOptions): Promise<MutationResult>;
  configureGuest(spec: agentv1.GuestSpec, options: MutationOptions): Promise<MutationResult>;
  startGuest(vmid: number, options: MutationOptions): Promise<MutationResult>;
  stopGuest(vmid: number, shutdownTimeoutSeconds: number, options: MutationOptions): Promise<MutationResult>;
  deleteGuest(vmid: number, flags: { force: boolean; purge: boolean }, options: MutationOptions): Promise<MutationResult>;
  snapshotGuest(vmid: number, name: string, description: string, options: MutationOptions): Promise<MutationResult>;
  rollbackGuest(vmid: number, name: string, start: boolean, options: MutationOptions): Promise<MutationResult>;
  execGuest(
    vmid: number,
    command: string[],
    input: { stdin: Buffer; timeoutSeconds: number },
    options: MutationOptions,
  ): Promise<agentv1.ExecGuestResponse>;
  pushFile(vmid: number, path: string, content: Buffer, mode: string, options: MutationOptions): Promise<MutationResult>;
  runFeatures(vmid: number, features: agentv1.FeatureRef[], options: MutationOptions): Promise<MutationResult>;
  ensureStorage(request: Omit<agentv1.EnsureStorageRequest, 'context'>, options: MutationOptions): Promise<MutationResult>;
  /** Stages a chunk of an ISO upload (not a Proxmox change: the volume appears at commit). */
  writeIsoChunk(target: agentv1.IsoTarget, offset: number, data: Buffer, signal: AbortSignal): Promise<{ staged: number; present: boolean }>;
  commitIso(target: agentv1.IsoTarget, options: MutationOptions): Promise<MutationResult>;
  deleteIso(storage: string, file: string, options: MutationOptions): Promise<MutationResult>;
  listDatasets(root: string, signal: AbortSignal): Promise<agentv1.Dataset[]>;
  ensureDataset(name: string, properties: Record<string, string>, options: MutationOptions): Promise<MutationResult>;
  /** Converges the node itself (host setup); with dryRun it only streams the plan. */
  setupHost(spec: agentv1.HostSpec, options: Omit<MutationOptions, 'isOperationActive'> & { dryRun: boolean }): Promise<MutationResult>;

  /** Repairs what interrupted operations left behind (PVE locks, half-created guests). */
  recoverInterrupted(operations: InterruptedOperation[], signal: AbortSignal): Promise<RecoveryReport>;
}
