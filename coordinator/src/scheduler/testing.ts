/**
 * Builders for views and pending guests, for tests and the benchmark. Plain data with defaults;
 * nothing here is used by the scheduler itself.
 */
import type { ClusterView, GpuView, GuestView, NodeView, StorageView } from '../view/types.js';

export interface NodeOptions {
  readonly cores?: number;
  readonly memoryMiB?: number;
  readonly reservedMiB?: number;
  readonly labels?: Record<string, string>;
  readonly storages?: readonly Partial<StorageView>[];
  readonly gpus?: readonly Partial<GpuView>[];
  readonly guests?: readonly Partial<GuestView>[];
  readonly osTemplates?: readonly string[];
  readonly down?: boolean;
}

export function makeNode(name: string, o: NodeOptions = {}): NodeView {
  return {
    name,
    labels: o.labels ?? {},
    cpu: { cores: o.cores ?? 32, usagePct: undefined, reservedCores: 0 },
    memory: { totalMiB: o.memoryMiB ?? 131072, usedMiB: undefined, reservedMiB: o.reservedMiB ?? 0 },
    storages: (o.storages ?? [{}]).map((s) => ({
      id: s.id ?? 'local',
      type: s.type ?? 'zfspool',
      totalGiB: s.totalGiB ?? 1000,
      freeGiB: s.freeGiB ?? s.totalGiB ?? 1000,
      content: s.content ?? ['images', 'rootdir'],
      shared: s.shared ?? false,
      active: s.active ?? true,
    })),
    gpus: (o.gpus ?? []).map((g, i) => ({
      index: g.index ?? i,
      model: g.model ?? 'NVIDIA H100 80GB HBM3',
      uuid: g.uuid,
      memoryTotalMiB: g.memoryTotalMiB ?? 81559,
      memoryFreeMiB: g.memoryFreeMiB ?? g.memoryTotalMiB ?? 81559,
      utilizationPct: g.utilizationPct ?? 0,
    })),
    guests: (o.guests ?? []).map((g, i) => ({
      vmid: g.vmid ?? 1000 + i,
      name: g.name,
      type: g.type ?? 'lxc',
      status: g.status ?? 'running',
      template: g.template ?? false,
      snapshots: g.snapshots ?? [],
      cores: g.cores ?? 0,
      memoryMiB: g.memoryMiB ?? 0,
      diskGiB: g.diskGiB ?? 0,
      storage: g.storage,
      gpus: g.gpus ?? [],
      gpuExclusive: g.gpuExclusive ?? false,
      groups: g.groups ?? [],
    })),
    osTemplates: [...(o.osTemplates ?? [])],
    lastHeartbeat: undefined,
    statusOverride: o.down ? 'down' : 'up',
    sampledAt: { node: 0, gpu: 0, guests: 0 },
  };
}

export function makeView(nodes: readonly NodeView[]): ClusterView {
  return {
    cluster: 'test',
    observedAt: 0,
    heartbeatIntervalMs: 10_000,
    missedHeartbeats: 3,
    nodes: [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}
