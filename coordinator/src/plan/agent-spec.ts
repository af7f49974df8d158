/**
 * A compiled guest plus its placement and allocations → the GuestSpec the agent converges to.
 * Everything node-specific (VMID, addresses, GPU indices, storage) is decided before this point
 * and every default is applied by compileSpec(); this is a pure translation.
 */
import { FailedPreconditionError, commonv1, type agentv1 } from '@phoenix/shared';
import type { CompiledContainer, CompiledGuest, CompiledVm } from '../spec/compile.js';

export interface GuestBinding {
  vmid: number;
  node: string;
  /** Storage for the root disk chosen by the scheduler. */
  storage: string;
  /** GPU indices on the node: shared devices for a container, PCI passthrough for a VM. */
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
  const ocp = g.kind === 'vm' ? g.vm.openshift : undefined;
  if (ocp) return { kind: { $case: 'installIso', value: { volume: ocp.isoVolume, rootDiskWwn: ocp.rootDeviceWwn ?? '' } } };
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

function applicationScript(name: string | undefined, b: GuestBinding): agentv1.Script | undefined {
  if (!name) return undefined;
  const inline = b.scripts?.[name];
  return inline !== undefined ? { name: '', content: inline, args: [] } : { name, content: '', args: [] };
}

/** The GuestSpec fields whose values depend on the kind. */
type KindFields = Pick<
  agentv1.GuestSpec,
  'type' | 'swapMib' | 'mountPoints' | 'idMaps' | 'lxcFeatures' | 'unprivileged' | 'apparmorProfile' | 'convertToTemplate' | 'vm' | 'rawLxc'
>;

function lxcPart(g: CompiledContainer): KindFields {
  const mountPoints: agentv1.MountPoint[] = [];
  for (const m of g.mounts) {
    if (m.type === 'bind') mountPoints.push({ index: mountPoints.length, volume: m.hostPath, path: m.path, readOnly: m.readOnly, backup: false, shared: false });
    else if (m.type === 'volume' && m.path) mountPoints.push({ index: mountPoints.length, volume: `${m.storage}:${m.sizeGiB}`, path: m.path, readOnly: false, backup: true, shared: false });
  }
  const { lxc } = g;
  return {
    type: commonv1.GuestType.LXC,
    swapMib: g.swapMiB,
    mountPoints,
    idMaps: lxc.idmap.map((m) => ({ kind: m.type === 'uid' ? 'u' : 'g', containerStart: m.containerId, hostStart: m.hostId, count: m.size })),
    lxcFeatures: { nesting: lxc.pveFeatures.nesting, keyctl: lxc.pveFeatures.keyctl, fuse: lxc.pveFeatures.fuse, mount: [...lxc.pveFeatures.mount] },
    unprivileged: lxc.unprivileged,
    apparmorProfile: lxc.apparmor?.profile ?? '',
    convertToTemplate: false,
    vm: undefined,
    rawLxc: [...lxc.rawLines],
  };
}

/**
 * An OpenShift node as ProxShift builds it, fixed: CPU `host` (RHCOS needs x86-64-v2, which
 * kvm64/qemu64 lack), blank scsi0 plus the ODF disks on scsi1.., the agent ISO on ide2, disk first
 * in the boot order so the installed system wins once written. UEFI (ovmf with an EFI disk on a q35
 * machine) because Phoenix promises UEFI VMs and RHCOS installs its EFI boot entries there;
 * ProxShift's SeaBIOS/i440fx VMs contradict its own documentation. No guest agent and no
 * cloud-init: the address, DNS and routes reach the node through the agent-config's nmstate.
 */
function openshiftVmSettings(g: CompiledVm, wwns: readonly (string | undefined)[]): agentv1.VmSettings {
  const volumes = g.mounts.filter((m) => m.type === 'volume');
  return {
    bios: 'ovmf',
    machine: 'q35',
    osType: 'l26',
    cpuType: 'host',
    guestAgent: false,
    cloudInit: undefined,
    extraDisks: volumes.map((m, i) => ({ slot: `scsi${i + 1}`, storage: m.storage, sizeGib: m.sizeGiB, wwn: wwns[i] ?? '' })),
    iso: '',
    bootOrder: ['scsi0', 'ide2'],
  };
}

function vmPart(g: CompiledVm): KindFields {
  const { vm } = g;
  if (vm.openshift) {
    const none = { swapMib: 0, mountPoints: [], idMaps: [], lxcFeatures: undefined, unprivileged: false, apparmorProfile: '', rawLxc: [] };
    return { ...none, type: commonv1.GuestType.VM, convertToTemplate: false, vm: openshiftVmSettings(g, vm.openshift.extraDiskWwns) };
  }
  return {
    type: commonv1.GuestType.VM,
    swapMib: 0,
    mountPoints: [],
    idMaps: [],
    lxcFeatures: undefined,
    unprivileged: false,
    apparmorProfile: '',
    convertToTemplate: vm.convertToTemplate,
    vm: {
      bios: vm.bios ?? '',
      machine: vm.machine ?? '',
      osType: 'l26',
      cpuType: vm.cpuType ?? '',
      guestAgent: true,
      cloudInit: { user: vm.cloudInit.user ?? '', sshKeys: [], passwordSecretRef: '', userData: '', networkData: '' },
      extraDisks: [],
      iso: '',
      bootOrder: [],
    },
    rawLxc: [],
  };
}

export function toAgentSpec(g: CompiledGuest, b: GuestBinding): agentv1.GuestSpec {
  const nic = g.network;
  const ocp = g.kind === 'vm' && g.vm.openshift !== undefined;
  // The agent-config matches hosts by MAC, so an OpenShift VM without one could never join.
  if (ocp && !b.mac) throw new FailedPreconditionError(`OpenShift VM ${g.name} has no MAC address allocated`);
  // An OpenShift VM's address lives in the agent-config (nmstate), not in cloud-init.
  const ip = ocp ? undefined : b.ip;
  const start = g.start;
  const isCt = g.kind === 'container';
  const k = isCt ? lxcPart(g) : vmPart(g);
  const spec: agentv1.GuestSpec = {
    vmid: b.vmid,
    type: k.type,
    hostname: g.name,
    source: source(g, b),
    cores: g.cores,
    memoryMib: g.memoryMiB,
    swapMib: k.swapMib,
    rootDisk: { storage: b.storage, sizeGib: g.diskGiB },
    networks: [
      {
        index: 0,
        name: nic.name,
        bridge: nic.bridge,
        ip: ip ?? '',
        gateway: ip && ip !== 'dhcp' ? (b.gateway ?? '') : '',
        mac: b.mac ?? '',
        vlanTag: nic.vlan ?? 0,
        firewall: nic.firewall,
        model: isCt ? '' : 'virtio',
      },
    ],
    nameservers: ocp ? [] : [...nic.nameservers],
    searchDomain: '',
    mountPoints: k.mountPoints,
    idMaps: k.idMaps,
    lxcFeatures: k.lxcFeatures,
    unprivileged: k.unprivileged,
    apparmorProfile: k.apparmorProfile,
    gpu: { indices: [...b.gpus] },
    onboot: start.onBoot,
    startup: start.order !== undefined ? { order: start.order, upDelaySeconds: start.upDelaySeconds, downDelaySeconds: start.downDelaySeconds } : undefined,
    tags: [...g.tags],
    features: g.features.map((f) => ({ name: f.name, params: { ...f.params, ...(b.featureParams?.[f.name] ?? {}) } })),
    applicationScript: applicationScript(g.applicationScript, b),
    healthCheck: g.healthCheck ? { command: [...g.healthCheck.command], retries: g.healthCheck.retries, intervalSeconds: g.healthCheck.intervalSeconds } : undefined,
    templateSnapshot: g.snapshotAsTemplate ?? '',
    convertToTemplate: k.convertToTemplate,
    vm: k.vm,
    description: g.description,
    rawLxc: k.rawLxc,
  };
  return spec;
}
