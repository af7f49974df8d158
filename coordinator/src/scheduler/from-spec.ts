/**
 * From a compiled spec and a view to scheduler input: guests already running somewhere are
 * "existing" (matched by VMID when the spec fixes one, else by name); the rest are pending.
 */
import type { CompiledGuest, CompiledSpec } from '../spec/compile.js';
import type { ClusterView, GuestView } from '../view/types.js';
import type { PendingGuest, TemplateRef } from './types.js';

export interface ExistingGuest {
  readonly guest: string;
  readonly node: string;
  readonly vmid: number;
}

export interface SchedulerInput {
  readonly pending: PendingGuest[];
  readonly existing: ExistingGuest[];
  /** The view with anti-affinity groups of existing guests filled in from the spec. */
  readonly view: ClusterView;
}

export function pendingGuest(g: CompiledGuest): PendingGuest {
  let template: TemplateRef | undefined;
  if (g.template?.kind === 'guest' && g.template.guest !== undefined) {
    // The template guest is part of the same spec, so the plan converges it (snapshot included)
    // before any clone of it: where it is present, or placed, is what matters.
    template = { kind: 'guest', guest: g.template.guest };
  } else if (g.template?.file !== undefined) {
    template = { kind: 'file', file: g.template.file };
  }
  const disks = [{ storage: g.storage, sizeGiB: g.diskGiB }];
  for (const m of g.mounts) if (m.type === 'volume') disks.push({ storage: m.storage, sizeGiB: m.sizeGiB });
  return {
    name: g.name,
    kind: g.kind,
    cores: g.cores,
    memoryMiB: g.memoryMiB,
    disks,
    gpu: g.gpu && {
      count: g.gpu.count,
      model: g.gpu.model,
      minFreeMemoryMiB: g.gpu.minFreeMemoryMiB,
      maxUtilizationPct: g.gpu.maxUtilizationPct,
      devices: g.gpu.devices,
      exclusive: g.gpu.passthrough === 'pci',
    },
    node: g.placement.node,
    labels: g.placement.labels,
    antiAffinity: g.placement.antiAffinity,
    template,
  };
}

function findExisting(g: CompiledGuest, view: ClusterView): { node: string; guest: GuestView } | undefined {
  for (const node of view.nodes) {
    for (const o of node.guests) {
      if (g.vmid !== undefined ? o.vmid === g.vmid : o.name === g.name) return { node: node.name, guest: o };
    }
  }
  return undefined;
}

export function schedulerInput(spec: CompiledSpec, view: ClusterView): SchedulerInput {
  const pending: PendingGuest[] = [];
  const existing: ExistingGuest[] = [];
  const groupsByVmid = new Map<string, readonly string[]>();
  for (const g of spec.guests) {
    const found = findExisting(g, view);
    if (found) {
      existing.push({ guest: g.name, node: found.node, vmid: found.guest.vmid });
      if (g.placement.antiAffinity.length > 0) groupsByVmid.set(`${found.node}/${found.guest.vmid}`, g.placement.antiAffinity);
    } else {
      pending.push(pendingGuest(g));
    }
  }
  const annotated: ClusterView =
    groupsByVmid.size === 0
      ? view
      : {
          ...view,
          nodes: view.nodes.map((n) => ({
            ...n,
            guests: n.guests.map((o) => {
              const groups = groupsByVmid.get(`${n.name}/${o.vmid}`);
              return groups ? { ...o, groups: [...new Set([...o.groups, ...groups])].sort() } : o;
            }),
          })),
        };
  return { pending, existing, view: annotated };
}
