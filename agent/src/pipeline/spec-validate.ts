/**
 * Validation of a whole GuestSpec before anything changes. Every identifier that will reach a
 * command line is checked with the shared validators; the error names the field and the value.
 * Features are checked separately (they need the clone source's record), see features/resolve.ts.
 */
import type { z } from 'zod';
import {
  InvalidArgumentError,
  bridgeSchema,
  cidrSchema,
  commonv1,
  hostnameSchema,
  ipv4Schema,
  macSchema,
  parseOrThrow,
  snapshotNameSchema,
  storageIdSchema,
  usernameSchema,
  vmidSchema,
} from '@phoenix/shared';
import { guestPathSchema } from '../drivers/args.js';
import { APPLICATIONS } from '../features/catalog.js';
import type { GuestSpec } from './types.js';

export const NEW_VOLUME_RE = /^([A-Za-z][A-Za-z0-9\-_.]*):(\d+(?:\.\d+)?)$/;
const VOLID_RE = /^[A-Za-z][A-Za-z0-9\-_.]*:[^\s,;=\0]+$/;
const IFNAME_RE = /^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/;
const TAG_RE = /^[a-z0-9_][a-z0-9_+.-]*$/i;
const APPARMOR_RE = /^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$/;
const IPV6_RE = /^[0-9a-fA-F:]+$/;
/** What PVE's upload accepts as an ISO (SAFE_CHAR_CLASS_RE names with ISO_EXT_RE_0). */
export const ISO_FILE_RE = /^[A-Za-z0-9][A-Za-z0-9.+=_-]{0,250}\.(iso|img)$/i;
const ISO_VOLID_RE = /^[A-Za-z][A-Za-z0-9\-_.]*:iso\/[A-Za-z0-9][A-Za-z0-9.+=_-]{0,250}\.(iso|img)$/i;
const WWN_RE = /^0x[0-9a-fA-F]{16}$/;
const WWN_REASON = 'must be 0x and 16 hex digits (the drive wwn PVE accepts)';

function fail(field: string, value: unknown, reason: string): never {
  throw new InvalidArgumentError(field, value, reason);
}

function check<S extends z.ZodType>(schema: S, value: unknown, field: string): z.output<S> {
  return parseOrThrow(schema, value, field);
}

function noControl(field: string, value: string, max: number): void {
  if (value.length > max) fail(field, value, `may only be ${max} characters long`);
  if (/\0/.test(value)) fail(field, value, 'must not contain NUL');
}

function volumeOrPath(field: string, v: string): void {
  if (v.startsWith('/')) check(guestPathSchema, v, field);
  else if (!VOLID_RE.test(v)) fail(field, v, 'must be a volume id (storage:name), storage:size or an absolute path');
}

export function isLxc(spec: GuestSpec): boolean {
  return spec.type === commonv1.GuestType.LXC;
}

export function validateSpec(spec: GuestSpec): void {
  check(vmidSchema, spec.vmid, 'vmid');
  if (spec.type !== commonv1.GuestType.LXC && spec.type !== commonv1.GuestType.VM) {
    fail('type', spec.type, 'must be LXC or VM');
  }
  const lxc = isLxc(spec);
  if (spec.hostname !== '') check(hostnameSchema, spec.hostname, 'hostname');

  const src = spec.source?.kind;
  if (src?.$case === 'osTemplate') {
    if (!lxc) fail('source.os_template', src.value, 'OS templates are for containers; VMs use cloud_image, install_iso or clone');
    volumeOrPath('source.os_template', src.value);
    if (!spec.rootDisk?.storage) fail('root_disk.storage', spec.rootDisk?.storage ?? '', 'is required to create a container from a template');
  } else if (src?.$case === 'cloudImage') {
    if (lxc) fail('source.cloud_image', src.value, 'cloud images are for VMs');
    volumeOrPath('source.cloud_image', src.value);
    if (!spec.rootDisk?.storage) fail('root_disk.storage', spec.rootDisk?.storage ?? '', 'is required to import a cloud image');
  } else if (src?.$case === 'installIso') {
    if (lxc) fail('source.install_iso', src.value.volume, 'install ISOs are for VMs');
    if (!ISO_VOLID_RE.test(src.value.volume)) fail('source.install_iso.volume', src.value.volume, 'must be an ISO volume id such as local:iso/agent.x86_64.iso');
    if (src.value.rootDiskWwn !== '' && !WWN_RE.test(src.value.rootDiskWwn)) fail('source.install_iso.root_disk_wwn', src.value.rootDiskWwn, WWN_REASON);
    if (!spec.rootDisk?.storage) fail('root_disk.storage', spec.rootDisk?.storage ?? '', 'is required to create the blank disk an installer writes to');
    if (!spec.rootDisk.sizeGib) fail('root_disk.size_gib', spec.rootDisk.sizeGib, 'is required to create the blank disk an installer writes to');
    if (spec.vm?.iso) fail('vm.iso', spec.vm.iso, 'an install-ISO VM has its ISO on ide2 already');
    // Without a cloud-init drive these keys would be set on every ensure and read by nothing.
    const noCloudInit = 'an install-ISO VM has no cloud-init drive; its installer configures the network';
    spec.networks.forEach((n, i) => n.ip !== '' && fail(`networks[${i}].ip`, n.ip, noCloudInit));
    if (spec.nameservers.length > 0) fail('nameservers', spec.nameservers, noCloudInit);
    if (spec.searchDomain !== '') fail('search_domain', spec.searchDomain, noCloudInit);
    const ci = spec.vm?.cloudInit;
    if (ci && (ci.user !== '' || ci.sshKeys.length > 0 || ci.userData !== '' || ci.networkData !== '')) fail('vm.cloud_init', ci.user, noCloudInit);
  } else if (src?.$case === 'clone') {
    check(vmidSchema, src.value.sourceVmid, 'source.clone.source_vmid');
    if (src.value.sourceVmid === spec.vmid) fail('source.clone.source_vmid', src.value.sourceVmid, 'a guest cannot clone itself');
    if (src.value.snapshot !== '') check(snapshotNameSchema, src.value.snapshot, 'source.clone.snapshot');
    if (src.value.targetStorage !== '') check(storageIdSchema, src.value.targetStorage, 'source.clone.target_storage');
  }

  if (spec.cores > 8192) fail('cores', spec.cores, 'must be at most 8192');
  if (spec.memoryMib !== 0 && spec.memoryMib < 16) fail('memory_mib', spec.memoryMib, 'must be at least 16');
  if (spec.rootDisk) {
    if (spec.rootDisk.storage !== '') check(storageIdSchema, spec.rootDisk.storage, 'root_disk.storage');
    if (spec.rootDisk.sizeGib > 1_000_000) fail('root_disk.size_gib', spec.rootDisk.sizeGib, 'is implausibly large');
  }

  const netIdx = new Set<number>();
  spec.networks.forEach((n, i) => {
    const f = `networks[${i}]`;
    if (n.index > 31) fail(`${f}.index`, n.index, 'must be 0..31');
    if (netIdx.has(n.index)) fail(`${f}.index`, n.index, 'is used twice');
    netIdx.add(n.index);
    if (n.name !== '' && !IFNAME_RE.test(n.name)) fail(`${f}.name`, n.name, 'must be an interface name');
    if (n.bridge !== '') check(bridgeSchema, n.bridge, `${f}.bridge`);
    if (n.ip !== '' && n.ip !== 'dhcp') check(cidrSchema, n.ip, `${f}.ip`);
    if (n.gateway !== '') {
      check(ipv4Schema, n.gateway, `${f}.gateway`);
      if (n.ip === 'dhcp') fail(`${f}.gateway`, n.gateway, 'makes no sense with dhcp');
    }
    if (n.mac !== '') check(macSchema, n.mac, `${f}.mac`);
    if (n.vlanTag > 4094) fail(`${f}.vlan_tag`, n.vlanTag, 'must be 1..4094');
    if (n.model !== '' && !/^(virtio|e1000|e1000e|vmxnet3|rtl8139)$/.test(n.model)) fail(`${f}.model`, n.model, 'unknown NIC model');
  });
  spec.nameservers.forEach((ns, i) => {
    if (!ipv4Schema.safeParse(ns).success && !IPV6_RE.test(ns)) fail(`nameservers[${i}]`, ns, 'must be an IP address');
  });
  if (spec.searchDomain !== '') check(hostnameSchema, spec.searchDomain, 'search_domain');

  const mpIdx = new Set<number>();
  spec.mountPoints.forEach((m, i) => {
    const f = `mount_points[${i}]`;
    if (!lxc) fail(f, m.volume, 'mount points are for containers');
    if (m.index > 255) fail(`${f}.index`, m.index, 'must be 0..255');
    if (mpIdx.has(m.index)) fail(`${f}.index`, m.index, 'is used twice');
    mpIdx.add(m.index);
    volumeOrPath(`${f}.volume`, m.volume);
    check(guestPathSchema, m.path, `${f}.path`);
    if (m.path === '/') fail(`${f}.path`, m.path, 'cannot mount over /');
  });

  if (spec.idMaps.length > 0 && !lxc) fail('id_maps', spec.idMaps, 'id maps are for containers');
  if (spec.idMaps.length > 0 && !spec.unprivileged) fail('id_maps', spec.idMaps, 'id maps need an unprivileged container');
  spec.idMaps.forEach((m, i) => {
    const f = `id_maps[${i}]`;
    if (m.kind !== 'u' && m.kind !== 'g') fail(`${f}.kind`, m.kind, 'must be "u" or "g"');
    if (m.count < 1) fail(`${f}.count`, m.count, 'must be at least 1');
    if (m.containerStart + m.count > 65536) fail(`${f}.container_start`, m.containerStart, 'range must lie within 0..65535');
  });

  for (const [i, t] of (spec.lxcFeatures?.mount ?? []).entries()) {
    if (!/^[a-z0-9]+$/.test(t)) fail(`lxc_features.mount[${i}]`, t, 'must be a file system type');
  }
  if (spec.apparmorProfile !== '') {
    if (!lxc) fail('apparmor_profile', spec.apparmorProfile, 'AppArmor profiles are for containers');
    if (!APPARMOR_RE.test(spec.apparmorProfile)) fail('apparmor_profile', spec.apparmorProfile, 'not a profile name');
  }
  const gpus = spec.gpu?.indices ?? [];
  if (gpus.length > 0 && !lxc && spec.vm?.machine && !/q35/.test(spec.vm.machine)) {
    fail('vm.machine', spec.vm.machine, 'GPU passthrough to a VM (hostpci with pcie=1) needs a q35 machine');
  }
  if (gpus.length > 16 && !lxc) fail('gpu.indices', gpus, 'a VM takes at most 16 PCI devices (hostpci0..15)');
  if (new Set(gpus).size !== gpus.length) fail('gpu.indices', gpus, 'lists a GPU twice');
  gpus.forEach((g, i) => g > 63 && fail(`gpu.indices[${i}]`, g, 'must be 0..63'));

  spec.tags.forEach((t, i) => TAG_RE.test(t) || fail(`tags[${i}]`, t, 'tags are letters, digits and _ - + .'));
  noControl('description', spec.description, 8000);
  if (/<!-- phoenix:installed/.test(spec.description)) fail('description', spec.description, 'must not contain the Phoenix record line');

  spec.rawLxc.forEach((line, i) => {
    if (!/^lxc\.[A-Za-z0-9_.-]+\s*[:=]/.test(line) || /[\n\0]/.test(line)) fail(`raw_lxc[${i}]`, line, 'must be one "lxc.<key>: <value>" line');
    if (!lxc) fail(`raw_lxc[${i}]`, line, 'raw lxc lines are for containers');
  });

  const app = spec.applicationScript;
  if (app && (app.name !== '' || app.content !== '')) {
    if (app.name !== '' && app.content !== '') fail('application_script', app.name, 'give a library name or inline content, not both');
    if (app.name !== '' && !APPLICATIONS.includes(app.name)) {
      fail('application_script.name', app.name, `unknown application script; library: ${APPLICATIONS.join(', ')}`);
    }
    noControl('application_script.content', app.content, 256 * 1024);
    app.args.forEach((a, i) => noControl(`application_script.args[${i}]`, a, 4096));
  }
  const hc = spec.healthCheck;
  if (hc && hc.command.length > 0) {
    hc.command.forEach((c, i) => noControl(`health_check.command[${i}]`, c, 4096));
    if (hc.retries > 1000) fail('health_check.retries', hc.retries, 'must be at most 1000');
    if (hc.intervalSeconds > 3600) fail('health_check.interval_seconds', hc.intervalSeconds, 'must be at most 3600');
  }
  if (spec.templateSnapshot !== '') check(snapshotNameSchema, spec.templateSnapshot, 'template_snapshot');
  if (spec.templateSnapshot !== '' && spec.convertToTemplate) {
    fail('convert_to_template', true, 'Proxmox refuses to convert a guest with snapshots into a template; use template_snapshot or convert_to_template, not both');
  }

  if (!lxc) validateVmSettings(spec);
  else if (spec.vm) fail('vm', spec.vm, 'VM settings on a container');
}

function validateVmSettings(spec: GuestSpec): void {
  const vm = spec.vm;
  if (!vm) return;
  if (vm.bios !== '' && !/^(seabios|ovmf)$/.test(vm.bios)) fail('vm.bios', vm.bios, 'must be seabios or ovmf');
  if (vm.machine !== '' && !/^(pc|q35)(-i440fx|-q35)?([-.][A-Za-z0-9.+]+)*$/.test(vm.machine)) fail('vm.machine', vm.machine, 'not a machine type');
  if (vm.osType !== '' && !/^(other|wxp|w2k|w2k3|w2k8|wvista|win7|win8|win10|win11|l24|l26|solaris)$/.test(vm.osType)) {
    fail('vm.os_type', vm.osType, 'not a PVE ostype');
  }
  if (vm.cpuType !== '' && !/^[A-Za-z0-9_.+-]+$/.test(vm.cpuType)) fail('vm.cpu_type', vm.cpuType, 'not a CPU type');
  const ci = vm.cloudInit;
  if (ci) {
    if (ci.user !== '') check(usernameSchema, ci.user, 'vm.cloud_init.user');
    ci.sshKeys.forEach((k, i) => {
      if (!/^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-[a-z0-9]+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+( [^\n\0]*)?$/.test(k)) {
        fail(`vm.cloud_init.ssh_keys[${i}]`, k, 'must be one OpenSSH public key line');
      }
    });
    for (const [field, v] of [['user_data', ci.userData], ['network_data', ci.networkData]] as const) {
      if (v !== '' && !/^[A-Za-z][A-Za-z0-9\-_.]*:snippets\/[A-Za-z0-9._-]+$/.test(v)) {
        fail(`vm.cloud_init.${field}`, v, 'must be a snippets volume id such as local:snippets/user.yml');
      }
    }
  }
  if (vm.iso !== '' && !VOLID_RE.test(vm.iso)) fail('vm.iso', vm.iso, 'must be a volume id such as local:iso/agent.iso');
  vm.bootOrder.forEach((b, i) => /^(scsi|virtio|sata|ide|net)\d+$/.test(b) || fail(`vm.boot_order[${i}]`, b, 'must be a device key such as scsi0'));
  vm.extraDisks.forEach((d, i) => {
    if (!/^(scsi([1-9]|[12]\d|30)|virtio([1-9]|1[0-5])|sata[1-5])$/.test(d.slot)) fail(`vm.extra_disks[${i}].slot`, d.slot, 'must be scsi1..30, virtio1..15 or sata1..5');
    check(storageIdSchema, d.storage, `vm.extra_disks[${i}].storage`);
    if (d.sizeGib < 1) fail(`vm.extra_disks[${i}].size_gib`, d.sizeGib, 'must be at least 1');
    if (d.wwn !== '' && !WWN_RE.test(d.wwn)) fail(`vm.extra_disks[${i}].wwn`, d.wwn, WWN_REASON);
  });
}
