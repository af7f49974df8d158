/**
 * A compiled guest plus its placement and allocations → the GuestSpec the agent converges to.
 * Everything node-specific (VMID, addresses, GPU indices, storage) is decided before this point;
 * this is a pure translation.
 */
import { commonv1, type agentv1 } from '@phoenix/shared';
import type { CompiledGuest } from '../spec/compile.js';
import type { ContainerSpec, VmSpec } from '../spec/guest.js';

export interface GuestBinding {
  vmid: number;
  node: string;
  /** Storage for the root disk chosen by the scheduler. */
  storage: string;
  /** GPU indices on the node. */
  gpus: readonly number[];
  /** Address with prefix (10.0.0.5/24), 'dhcp', or undefined. */
  ip: string | undefined;
  gateway: string | undefined;
  mac: string | undefined;
  /** VMID of the template guest when cloned. */
  sourceVmid: number | undefined;
  /** Snapshot of the template guest to clone from. */
  sourceSnapshot: string | undefined;
  /** Storage holding OS templates / cloud images on that node. */
  templateStorage: string;
  /** Parameters the coordinator adds for features (e.g. the cluster CA for trusted_ca). */
  featureParams?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Script files that came with the spec: sent inline instead of by library name. */
  scripts?: Readonly<Record<string, string>>;
}

function source(g: CompiledGuest, b: GuestBinding): agentv1.GuestSource | undefined {
  const t = g.template;
  if (t?.kind === 'guest' && b.sourceVmid !== undefined) {
    return { kind: { $case: 'clone', value: { sourceVmid: b.sourceVmid, snapshot: b.sourceSnapshot ?? '', full: true, targetStorage: b.storage } } };
  }
  if (t?.kind === 'os-template' && t.file) {
    return { kind: { $case: 'osTemplate', value: `${t.storage ?? b.templateStorage}:vztmpl/${t.file}` } };
  }
  if (t?.kind === 'cloud-image' && t.file) {
    return { kind: { $case: 'cloudImage', value: `${t.storage ?? b.templateStorage}:iso/${t.file}` } };
  }
  return undefined;
}

function stringParams(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
  return out;
}

export function toAgentSpec(g: CompiledGuest, b: GuestBinding): agentv1.GuestSpec {
  const src = g.source as Partial<ContainerSpec & VmSpec>;
  const isCt = g.kind === 'container';
  const nic = g.network;
  const start = src.start;
  const mountPoints: agentv1.MountPoint[] = [];
  let mpIndex = 0;
  for (const m of g.mounts) {
    if (m.type === 'bind' && isCt) mountPoints.push({ index: mpIndex++, volume: m.hostPath, path: m.path, readOnly: m.readOnly, backup: false, shared: false });
    else if (m.type === 'volume' && isCt && m.path) mountPoints.push({ index: mpIndex++, volume: `${m.storage}:${m.sizeGiB}`, path: m.path, readOnly: false, backup: true, shared: false });
  }
  const features = g.features.map((name) => ({
    name,
    params: { ...stringParams(src.appConfig?.[name]), ...(b.featureParams?.[name] ?? {}) },
  }));
  const spec: agentv1.GuestSpec = {
    vmid: b.vmid,
    type: isCt ? commonv1.GuestType.LXC : commonv1.GuestType.VM,
    hostname: g.name,
    source: source(g, b),
    cores: g.cores,
    memoryMib: g.memoryMiB,
    swapMib: isCt ? g.swapMiB : 0,
    rootDisk: { storage: b.storage, sizeGib: g.diskGiB },
    networks: [
      {
        index: 0,
        name: nic.name,
        bridge: nic.bridge,
        ip: b.ip ?? '',
        gateway: b.ip && b.ip !== 'dhcp' ? (b.gateway ?? '') : '',
        mac: b.mac ?? '',
        vlanTag: nic.vlan ?? 0,
        firewall: nic.firewall,
        model: isCt ? '' : 'virtio',
      },
    ],
    nameservers: [...nic.nameservers],
    searchDomain: '',
    mountPoints,
    idMaps: (src.idmap ?? []).map((m) => ({ kind: m.type === 'uid' ? 'u' : 'g', containerStart: m.containerId, hostStart: m.hostId, count: m.size })),
    lxcFeatures: isCt
      ? { nesting: src.pveFeatures?.nesting ?? false, keyctl: src.pveFeatures?.keyctl ?? false, fuse: src.pveFeatures?.fuse ?? false, mount: [...(src.pveFeatures?.mount ?? [])] }
      : undefined,
    unprivileged: isCt ? (src.unprivileged ?? true) : false,
    apparmorProfile: src.apparmor?.profile ?? '',
    gpu: { indices: [...b.gpus] },
    onboot: start?.onBoot ?? false,
    startup: start?.order !== undefined ? { order: start.order, upDelaySeconds: start.upDelaySeconds ?? 0, downDelaySeconds: start.downDelaySeconds ?? 0 } : undefined,
    tags: [...(src.tags ?? [])],
    features,
    applicationScript: src.applicationScript
      ? b.scripts?.[src.applicationScript] !== undefined
        ? { name: '', content: b.scripts[src.applicationScript]!, args: [] }
        : { name: src.applicationScript, content: '', args: [] }
      : undefined,
    healthCheck: src.healthCheck ? { command: [...src.healthCheck.command], retries: src.healthCheck.retries, intervalSeconds: src.healthCheck.intervalSeconds } : undefined,
    templateSnapshot: g.snapshotAsTemplate ?? '',
    convertToTemplate: !isCt && (src.convertToTemplate ?? false),
    vm: isCt
      ? undefined
      : {
          bios: src.bios ?? '',
          machine: src.machine ?? '',
          osType: 'l26',
          cpuType: src.cpuType ?? '',
          guestAgent: true,
          cloudInit: { user: src.cloudInit?.user ?? '', sshKeys: [], passwordSecretRef: '', userData: '', networkData: '' },
          extraDisks: [],
          iso: '',
          bootOrder: [],
        },
    description: src.description ?? '',
    rawLxc: isCt ? [...(src.lxcRaw ?? [])] : [],
  };
  return spec;
}
