/**
 * Folding agent telemetry into the view. Each message kind replaces its part of one node; a message
 * older than what the view already holds for that part is ignored (NATS may redeliver or reorder).
 * Any message is a sign of life, as is a heartbeat. Pure: returns a new view, never mutates.
 */
import type { ClusterView, GpuView, GuestView, NodeView, StorageView } from './types.js';
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_MISSED_HEARTBEATS } from './liveness.js';

export interface StorageSample {
  readonly id: string;
  readonly type: string;
  readonly totalGiB: number;
  readonly freeGiB: number;
  readonly content?: StorageView['content'] | undefined;
  readonly shared?: boolean | undefined;
  readonly active?: boolean | undefined;
}

export interface NodeResourcesMessage {
  readonly kind: 'node';
  readonly node: string;
  /** Epoch milliseconds when the agent took the sample. */
  readonly at: number;
  readonly cpu: {
    readonly cores: number;
    readonly usagePct?: number | undefined;
    readonly reservedCores?: number | undefined;
  };
  readonly memory: {
    readonly totalMiB: number;
    readonly usedMiB?: number | undefined;
    readonly reservedMiB?: number | undefined;
  };
  readonly storages: readonly StorageSample[];
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly osTemplates?: readonly string[] | undefined;
}

export interface GpuSample {
  readonly index: number;
  readonly model: string;
  readonly uuid?: string | undefined;
  readonly memoryTotalMiB: number;
  readonly memoryFreeMiB: number;
  readonly utilizationPct: number;
}

export interface GpuSamplesMessage {
  readonly kind: 'gpu';
  readonly node: string;
  readonly at: number;
  readonly gpus: readonly GpuSample[];
}

export interface GuestObservation {
  readonly vmid: number;
  readonly name?: string | undefined;
  readonly type: GuestView['type'];
  readonly status: GuestView['status'];
  readonly template?: boolean | undefined;
  readonly snapshots?: readonly string[] | undefined;
  readonly cores: number;
  readonly memoryMiB: number;
  readonly diskGiB?: number | undefined;
  readonly storage?: string | undefined;
  readonly gpus?: readonly number[] | undefined;
  readonly gpuExclusive?: boolean | undefined;
  readonly groups?: readonly string[] | undefined;
}

export interface GuestListMessage {
  readonly kind: 'guests';
  readonly node: string;
  readonly at: number;
  readonly guests: readonly GuestObservation[];
}

export interface HeartbeatMessage {
  readonly kind: 'heartbeat';
  readonly node: string;
  readonly at: number;
}

export type TelemetryMessage = NodeResourcesMessage | GpuSamplesMessage | GuestListMessage | HeartbeatMessage;

export interface EmptyViewOptions {
  readonly cluster?: string | undefined;
  readonly now?: number | undefined;
  readonly heartbeatIntervalMs?: number | undefined;
  readonly missedHeartbeats?: number | undefined;
}

export function emptyView(options: EmptyViewOptions = {}): ClusterView {
  return {
    cluster: options.cluster,
    observedAt: options.now ?? 0,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
    missedHeartbeats: options.missedHeartbeats ?? DEFAULT_MISSED_HEARTBEATS,
    nodes: [],
  };
}

export function emptyNode(name: string): NodeView {
  return {
    name,
    labels: {},
    cpu: { cores: 0, usagePct: undefined, reservedCores: 0 },
    memory: { totalMiB: 0, usedMiB: undefined, reservedMiB: 0 },
    storages: [],
    gpus: [],
    guests: [],
    osTemplates: [],
    lastHeartbeat: undefined,
    statusOverride: undefined,
    sampledAt: { node: -Infinity, gpu: -Infinity, guests: -Infinity },
  };
}

/** Moves the view's clock forward (never back), so silence turns into "down". */
export function advanceClock(view: ClusterView, now: number): ClusterView {
  return now > view.observedAt ? { ...view, observedAt: now } : view;
}

export function applyTelemetry(view: ClusterView, message: TelemetryMessage): ClusterView {
  const at = message.at;
  const existing = view.nodes.find((n) => n.name === message.node);
  let node = existing ?? emptyNode(message.node);
  const alive = { lastHeartbeat: Math.max(node.lastHeartbeat ?? -Infinity, at) };

  switch (message.kind) {
    case 'heartbeat':
      node = { ...node, ...alive };
      break;
    case 'node':
      if (at < node.sampledAt.node) return withClock(view, at);
      node = {
        ...node,
        ...alive,
        labels: message.labels ?? node.labels,
        cpu: {
          cores: message.cpu.cores,
          usagePct: message.cpu.usagePct,
          reservedCores: message.cpu.reservedCores ?? node.cpu.reservedCores,
        },
        memory: {
          totalMiB: message.memory.totalMiB,
          usedMiB: message.memory.usedMiB,
          reservedMiB: message.memory.reservedMiB ?? node.memory.reservedMiB,
        },
        storages: message.storages.map(toStorage).sort((a, b) => cmp(a.id, b.id)),
        osTemplates: message.osTemplates ? [...message.osTemplates].sort(cmp) : node.osTemplates,
        sampledAt: { ...node.sampledAt, node: at },
      };
      break;
    case 'gpu':
      if (at < node.sampledAt.gpu) return withClock(view, at);
      node = {
        ...node,
        ...alive,
        gpus: message.gpus.map(toGpu).sort((a, b) => a.index - b.index),
        sampledAt: { ...node.sampledAt, gpu: at },
      };
      break;
    case 'guests':
      if (at < node.sampledAt.guests) return withClock(view, at);
      node = {
        ...node,
        ...alive,
        guests: message.guests.map(toGuest).sort((a, b) => a.vmid - b.vmid),
        sampledAt: { ...node.sampledAt, guests: at },
      };
      break;
  }
  const nodes = existing
    ? view.nodes.map((n) => (n === existing ? node : n))
    : [...view.nodes, node].sort((a, b) => cmp(a.name, b.name));
  return withClock({ ...view, nodes }, at);
}

function withClock(view: ClusterView, at: number): ClusterView {
  return advanceClock(view, at);
}

export function toStorage(s: StorageSample): StorageView {
  return {
    id: s.id,
    type: s.type,
    totalGiB: s.totalGiB,
    freeGiB: s.freeGiB,
    content: s.content ?? [],
    shared: s.shared ?? false,
    active: s.active ?? true,
  };
}

export function toGpu(g: GpuSample): GpuView {
  return {
    index: g.index,
    model: g.model,
    uuid: g.uuid,
    memoryTotalMiB: g.memoryTotalMiB,
    memoryFreeMiB: g.memoryFreeMiB,
    utilizationPct: g.utilizationPct,
  };
}

export function toGuest(g: GuestObservation): GuestView {
  return {
    vmid: g.vmid,
    name: g.name,
    type: g.type,
    status: g.status,
    template: g.template ?? false,
    snapshots: g.snapshots ?? [],
    cores: g.cores,
    memoryMiB: g.memoryMiB,
    diskGiB: g.diskGiB ?? 0,
    storage: g.storage,
    gpus: g.gpus ?? [],
    gpuExclusive: g.gpuExclusive ?? false,
    groups: g.groups ?? [],
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
