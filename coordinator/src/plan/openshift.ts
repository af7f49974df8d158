/**
 * Stage 5a, openshift: each OpenShift cluster of the spec → what its install needs, from the
 * allocated VMs (node, address, MAC) and what the leader recorded about earlier installs. A cluster
 * is installed once: a recorded, installed cluster whose VMs all exist is left alone.
 */
import type { CompiledOpenShift, CompiledSpec } from '../spec/compile.js';
import type { AllocatedGuest } from './stages.js';
import type { PlanStep } from './types.js';

/** What the leader remembers of a cluster's install (observed state, from KV). */
export interface OpenShiftInstallRecord {
  readonly cluster: string;
  readonly state: 'installing' | 'installed' | 'failed';
  /** Nodes the agent ISO was uploaded to. */
  readonly nodes: readonly string[];
  readonly isoVolume: string;
}

export interface PlannedHost {
  readonly name: string;
  readonly guestId: string;
  readonly role: 'control-plane' | 'worker';
  readonly node: string;
  /** Address without prefix. */
  readonly ip: string;
  readonly mac: string;
  readonly rootDeviceWwn: string | undefined;
}

export interface PlannedCluster {
  readonly name: string;
  /** The gate its new VMs wait for: the agent ISO on their nodes. */
  readonly gate: string;
  readonly action: 'install' | 'none';
  readonly reason: string;
  readonly cluster: CompiledOpenShift;
  readonly hosts: readonly PlannedHost[];
  /** Nodes hosting one of its VMs (where the ISO goes). */
  readonly nodes: readonly string[];
  readonly isoStorage: string;
  readonly isoFile: string;
  readonly isoVolume: string;
  readonly steps: readonly PlanStep[];
}

export const OPENSHIFT_STEP_SECONDS = { image: 60, upload: 20, bootstrap: 1200, install: 1800 } as const;

export function agentIsoFile(cluster: string): string {
  return `phoenix-${cluster}-agent.x86_64.iso`;
}

export const openshiftGate = (cluster: string): string => `openshift:${cluster}`;

export function planOpenShift(
  spec: CompiledSpec,
  allocated: readonly AllocatedGuest[],
  records: ReadonlyMap<string, OpenShiftInstallRecord>,
): PlannedCluster[] {
  const out: PlannedCluster[] = [];
  for (const c of spec.openshift) {
    const name = c.spec.name;
    const vms = allocated.filter((a) => a.guest.kind === 'vm' && a.guest.vm.openshift?.cluster === name);
    // A cluster whose VMs could not all be placed is reported unplaced by the earlier stages; nothing to install.
    if (vms.length !== c.spec.nodes.length) continue;
    const hosts = c.spec.nodes.map((n): PlannedHost => {
      const a = vms.find((v) => v.guest.name === n.name)!;
      return {
        name: n.name,
        guestId: a.id,
        role: n.role,
        node: a.node,
        ip: (a.ip ?? '').split('/')[0] ?? '',
        mac: a.mac ?? '',
        rootDeviceWwn: n.rootDeviceWwn,
      };
    });
    const record = records.get(name);
    const allExist = vms.every((v) => v.exists);
    const installed = record?.state === 'installed' && allExist;
    const isoStorage = c.spec.isoStorage ?? 'local';
    const isoFile = agentIsoFile(name);
    const nodes = [...new Set(hosts.map((h) => h.node))].sort();
    out.push({
      name,
      gate: openshiftGate(name),
      action: installed ? 'none' : 'install',
      reason: installed ? 'installed' : record ? `last install ${record.state}` : 'not installed',
      cluster: c,
      hosts,
      nodes,
      isoStorage,
      isoFile,
      isoVolume: `${isoStorage}:iso/${isoFile}`,
      steps: installed
        ? []
        : [
            { name: 'image', reason: 'render install-config and agent-config, create the agent ISO', estSeconds: OPENSHIFT_STEP_SECONDS.image },
            { name: 'upload', reason: `agent ISO to ${nodes.join(', ')}`, estSeconds: OPENSHIFT_STEP_SECONDS.upload },
            { name: 'bootstrap', reason: 'wait for bootstrap-complete', estSeconds: OPENSHIFT_STEP_SECONDS.bootstrap },
            { name: 'install', reason: 'wait for install-complete, store the credentials', estSeconds: OPENSHIFT_STEP_SECONDS.install },
          ],
    });
  }
  return out;
}
