/**
 * Stage 5, translate: allocated guests → planned guests, each with its steps, what it waits for
 * (clone parent, declared dependencies) and the agent spec. Every VMID is known by now, so a
 * clone's source is resolved here, once.
 */
import type { agentv1 } from '@phoenix/shared';
import type { CompiledGuest, CompiledSpec } from '../spec/compile.js';
import { toAgentSpec } from './agent-spec.js';
import type { PlannedCluster } from './openshift.js';
import type { AllocatedGuest } from './stages.js';
import { stepsFor } from './steps.js';
import type { PlannedGuest } from './types.js';

export interface TranslateOptions {
  /** Storage holding OS templates and cloud images on every node. */
  templateStorage?: string;
  /** Parameters the coordinator adds for features (e.g. the cluster CA for trusted_ca). */
  featureParams?: Record<string, Record<string, string>>;
  /** Application scripts that came with the spec (name → content). */
  scripts?: Record<string, string>;
}

export function translate(
  spec: CompiledSpec,
  allocated: readonly AllocatedGuest[],
  clusters: readonly PlannedCluster[],
  options: TranslateOptions,
): PlannedGuest[] {
  const byId = new Map(allocated.map((a) => [a.id, a]));
  // New VMs of a cluster being installed boot from its agent ISO, so they wait for it.
  const gates = new Map(clusters.filter((c) => c.action === 'install').flatMap((c) => c.hosts.map((h) => [h.guestId, c.gate] as const)));
  const byName = new Map(spec.guests.map((g) => [g.name, g]));
  return allocated.map((a): PlannedGuest => {
    const g = a.guest;
    const parent = a.parentId ? byId.get(a.parentId) : undefined;
    const deps = new Set<string>();
    if (a.parentId) deps.add(a.parentId);
    for (const d of g.dependencies) if (byId.has(d)) deps.add(d);
    const inherited = new Set(g.ancestors.flatMap((name) => (byName.get(name)?.features ?? []).map((f) => f.name)));
    const agentSpec = a.vmid > 0 ? agentSpecOf(a, parent, options) : undefined;
    return {
      id: a.id,
      vmid: a.vmid,
      node: a.node,
      action: a.exists ? 'none' : 'create',
      steps: stepsFor(g, a.exists, a.parentId !== undefined, inherited),
      dependsOn: [...deps],
      ...(a.parentId && !a.exists ? { cloneSource: a.parentId } : {}),
      ...(!a.exists && gates.has(a.id) ? { gate: gates.get(a.id)! } : {}),
      ...(agentSpec ? { spec: agentSpec } : {}),
    };
  });
}

function agentSpecOf(a: AllocatedGuest, parent: AllocatedGuest | undefined, options: TranslateOptions): agentv1.GuestSpec {
  const g = a.guest;
  const snapshot = g.template?.kind === 'guest' ? (g.template.snapshot ?? parent?.guest.snapshotAsTemplate) : undefined;
  // A clone starts with its template's disk; asking for less would be a shrink, which Proxmox refuses.
  const guest: CompiledGuest = parent && parent.guest.diskGiB > g.diskGiB ? { ...g, diskGiB: parent.guest.diskGiB } : g;
  return toAgentSpec(guest, {
    vmid: a.vmid,
    node: a.node,
    storage: a.storage,
    gpus: a.gpus,
    ip: a.ip,
    gateway: a.gateway,
    mac: a.mac,
    sourceVmid: parent?.vmid,
    sourceSnapshot: snapshot,
    templateStorage: options.templateStorage ?? 'local',
    featureParams: options.featureParams ?? {},
    scripts: options.scripts ?? {},
  });
}
