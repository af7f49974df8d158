/** A node as people read it: capacity, use, GPUs, guests, templates and up/down. */
import { liveness, nodeStatus } from './liveness.js';
import { nodeUsage } from './usage.js';
import type { ClusterView, NodeView } from './types.js';

export interface NodeSummary {
  readonly name: string;
  readonly status: 'up' | 'down';
  /** Seconds since the last heartbeat, when there was one. */
  readonly heartbeatAgeSeconds: number | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly cpu: { readonly cores: number; readonly allocatedCores: number; readonly usagePct: number | undefined };
  readonly memory: {
    readonly totalMiB: number;
    readonly reservedMiB: number;
    readonly allocatedMiB: number;
    readonly usedMiB: number | undefined;
  };
  readonly storages: readonly { id: string; type: string; shared: boolean; totalGiB: number; freeGiB: number }[];
  readonly gpus: readonly {
    index: number;
    model: string;
    memoryTotalMiB: number;
    memoryFreeMiB: number;
    utilizationPct: number;
    guests: number;
    exclusive: boolean;
  }[];
  readonly guests: readonly {
    vmid: number;
    name: string | undefined;
    type: string;
    status: string;
    template: boolean;
    snapshots: readonly string[];
  }[];
  /** Template guests present (`name@snapshot` per snapshot, `name` for Proxmox templates) and OS template files. */
  readonly templates: readonly string[];
}

export function summarizeNode(view: ClusterView, node: NodeView): NodeSummary {
  const usage = nodeUsage(node);
  const live = liveness(node.lastHeartbeat, view.observedAt, view.heartbeatIntervalMs, view.missedHeartbeats);
  const templates: string[] = [];
  for (const g of node.guests) {
    if (g.name === undefined) continue;
    if (g.template) templates.push(g.name);
    for (const s of g.snapshots) templates.push(`${g.name}@${s}`);
  }
  templates.push(...node.osTemplates);
  return {
    name: node.name,
    status: nodeStatus(view, node),
    heartbeatAgeSeconds:
      node.lastHeartbeat === undefined || live === 'unknown' ? undefined : Math.max(0, Math.round((view.observedAt - node.lastHeartbeat) / 1000)),
    labels: node.labels,
    cpu: { cores: node.cpu.cores, allocatedCores: usage.allocatedCores, usagePct: node.cpu.usagePct },
    memory: {
      totalMiB: node.memory.totalMiB,
      reservedMiB: node.memory.reservedMiB,
      allocatedMiB: usage.allocatedMemoryMiB,
      usedMiB: node.memory.usedMiB,
    },
    storages: node.storages.map((s) => ({ id: s.id, type: s.type, shared: s.shared, totalGiB: s.totalGiB, freeGiB: s.freeGiB })),
    gpus: node.gpus.map((g) => ({
      index: g.index,
      model: g.model,
      memoryTotalMiB: g.memoryTotalMiB,
      memoryFreeMiB: g.memoryFreeMiB,
      utilizationPct: g.utilizationPct,
      guests: usage.gpuUsers.get(g.index)?.users ?? 0,
      exclusive: usage.gpuUsers.get(g.index)?.exclusive ?? false,
    })),
    guests: node.guests.map((g) => ({
      vmid: g.vmid,
      name: g.name,
      type: g.type,
      status: g.status,
      template: g.template,
      snapshots: g.snapshots,
    })),
    templates: [...new Set(templates)].sort(),
  };
}
