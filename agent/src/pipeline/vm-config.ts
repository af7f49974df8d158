/**
 * Desired VM configuration and its difference to `qm config`: one `qm set` with the changed keys,
 * disk growth, and whether cloud-init must be regenerated. Same ownership rules as lxc-config.ts.
 * SSH keys are handed to `qm set --sshkeys <file>` (the qm CLI reads the file and URL-encodes it
 * the way PVE stores it), so they are returned separately.
 */
import { InvalidArgumentError } from '@phoenix/shared';
import { decodePveEscapes, formatPropertyString, parseDiskSize, parsePropertyString, parsePveBool } from '../drivers/parse-config.js';
import type { GuestConfig } from '../drivers/types.js';
import { composeDescription, splitDescription } from '../features/record.js';
import { startupValue } from './lxc-config.js';
import type { GuestSpec } from './types.js';
import { configDiff } from './config-diff.js';
import { hostPciEntries, isQ35, planHostPci } from './vm-gpu.js';

const NIC_MODELS = ['virtio', 'e1000', 'e1000e', 'vmxnet3', 'rtl8139'];
/** Keys cloud-init reads: a change needs `qm cloudinit update`. */
const CLOUDINIT_KEYS = /^(ciuser|cipassword|sshkeys|ipconfig\d+|nameserver|searchdomain|cicustom)$/;
export const ISO_SLOT = 'ide3';

export interface VmChanges {
  set: Record<string, string>;
  delete: string[];
  /** New authorized_keys text, when it changed. */
  sshKeys: string | undefined;
  resize: Array<{ disk: string; size: string }>;
  cloudinitChanged: boolean;
  summary: string[];
}

export function vmNetValue(n: GuestSpec['networks'][number], currentMac: string | undefined): string {
  const model = n.model || 'virtio';
  const mac = n.mac ? n.mac.toUpperCase() : currentMac;
  const parts = [mac ? `${model}=${mac}` : model, `bridge=${n.bridge || 'vmbr0'}`];
  if (n.firewall) parts.push('firewall=1');
  if (n.vlanTag > 0) parts.push(`tag=${n.vlanTag}`);
  return parts.join(',');
}

function nicOf(value: string): { model: string | undefined; mac: string | undefined; map: Map<string, string> } {
  const map = parsePropertyString(value);
  const model = NIC_MODELS.find((m) => map.has(m));
  const mac = model ? map.get(model) : undefined;
  return { model, mac: mac && mac !== '1' ? mac : undefined, map };
}

function sameNic(current: string, n: GuestSpec['networks'][number]): boolean {
  const c = nicOf(current);
  if (c.model !== (n.model || 'virtio')) return false;
  if (n.mac && (c.mac ?? '').toUpperCase() !== n.mac.toUpperCase()) return false;
  if ((c.map.get('bridge') ?? '') !== (n.bridge || 'vmbr0')) return false;
  if (parsePveBool(c.map.get('firewall')) !== n.firewall) return false;
  return (c.map.get('tag') ?? '') === (n.vlanTag > 0 ? String(n.vlanTag) : '');
}

export function ipconfigValue(n: GuestSpec['networks'][number]): string | undefined {
  if (!n.ip) return undefined;
  const entries: Array<[string, string]> = [['ip', n.ip]];
  if (n.gateway && n.ip !== 'dhcp') entries.push(['gw', n.gateway]);
  return formatPropertyString(entries);
}

function sameIpconfig(current: string | undefined, desired: string): boolean {
  const a = parsePropertyString(current ?? '');
  const b = parsePropertyString(desired);
  return ['ip', 'gw', 'ip6', 'gw6'].every((k) => (a.get(k) ?? '') === (b.get(k) ?? ''));
}

export function sshKeysText(keys: readonly string[]): string {
  return keys.length === 0 ? '' : `${keys.join('\n')}\n`;
}

function keySet(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .sort()
    .join('\n');
}

function cicustomValue(spec: GuestSpec): string | undefined {
  const ci = spec.vm?.cloudInit;
  if (!ci || (!ci.userData && !ci.networkData)) return undefined;
  const entries: Array<[string, string]> = [];
  if (ci.networkData) entries.push(['network', ci.networkData]);
  if (ci.userData) entries.push(['user', ci.userData]);
  return formatPropertyString(entries);
}

function bootDisk(spec: GuestSpec): string {
  const first = spec.vm?.bootOrder.find((b) => !b.startsWith('net'));
  return first ?? 'scsi0';
}

type CreateParams = Record<string, string | number | boolean>;

/** `qm create` parameters every VM gets from its spec, whatever it is made from. */
function commonCreateParams(spec: GuestSpec, gpus: readonly string[], efi: string): CreateParams {
  const storage = spec.rootDisk?.storage ?? '';
  const vm = spec.vm;
  const p: CreateParams = { ostype: vm?.osType || 'l26' };
  if (spec.hostname) p['name'] = spec.hostname;
  if (spec.cores > 0) p['cores'] = spec.cores;
  if (spec.memoryMib > 0) p['memory'] = spec.memoryMib;
  if (spec.onboot) p['onboot'] = true;
  if (spec.startup) p['startup'] = startupValue(spec.startup);
  if (spec.tags.length > 0) p['tags'] = [...new Set(spec.tags)].sort().join(';');
  if (spec.description) p['description'] = spec.description;
  if (vm?.guestAgent) p['agent'] = 'enabled=1';
  if (vm?.bios) p['bios'] = vm.bios;
  if (vm?.bios === 'ovmf') p['efidisk0'] = `${storage}:1,${efi}`;
  if (vm?.machine) p['machine'] = vm.machine;
  else if (gpus.length > 0) p['machine'] = 'q35';
  Object.assign(p, hostPciEntries(gpus));
  if (vm?.cpuType) p['cpu'] = vm.cpuType;
  for (const n of spec.networks) p[`net${n.index}`] = vmNetValue(n, undefined);
  return p;
}

/** `qm create` parameters for a VM from a cloud image (the disk is imported by import-from) with its GPUs. */
export function vmCreateParams(spec: GuestSpec, image: string, gpus: readonly string[]): CreateParams {
  const storage = spec.rootDisk?.storage ?? '';
  const vm = spec.vm;
  const p: CreateParams = {
    ...commonCreateParams(spec, gpus, 'efitype=4m,pre-enrolled-keys=0'),
    scsihw: 'virtio-scsi-pci',
    scsi0: `${storage}:0,import-from=${image}`,
    ide2: `${storage}:cloudinit`,
    boot: `order=${(vm?.bootOrder.length ? vm.bootOrder : ['scsi0']).join(';')}`,
    serial0: 'socket',
    vga: 'serial0',
  };
  if (vm?.cloudInit?.user) p['ciuser'] = vm.cloudInit.user;
  const cic = cicustomValue(spec);
  if (cic) p['cicustom'] = cic;
  if (vm?.iso) p[ISO_SLOT] = `${vm.iso},media=cdrom`;
  for (const d of vm?.extraDisks ?? []) p[d.slot] = `${d.storage}:${d.sizeGib}`;
  if (spec.nameservers.length > 0) p['nameserver'] = spec.nameservers.join(' ');
  if (spec.searchDomain) p['searchdomain'] = spec.searchDomain;
  for (const n of spec.networks) {
    const ipc = ipconfigValue(n);
    if (ipc) p[`ipconfig${n.index}`] = ipc;
  }
  return p;
}

/** The slot of an installer ISO; scsi0 comes first in the boot order, so the installed system wins once written. */
export const INSTALL_ISO_SLOT = 'ide2';

/**
 * A blank SCSI disk for an installer: one IO thread per disk (virtio-scsi-single), reported as an
 * SSD so the guest schedules and trims it as flash, discard so its trims return space to thin
 * storage, and the wwn the installer's root device hints name.
 */
function blankDisk(storage: string, sizeGib: number, wwn: string): string {
  return `${storage}:${sizeGib},discard=on,iothread=1,ssd=1${wwn ? `,wwn=${wwn}` : ''}`;
}

/**
 * `qm create` parameters for a VM that installs itself from an ISO (the OpenShift agent ISO):
 * blank scsi0 and extra disks, the ISO on ide2, no cloud-init drive (the installer brings its own
 * network configuration). The boot order and machine come from the spec; only missing ones default.
 */
export function installIsoCreateParams(spec: GuestSpec, iso: { volume: string; rootDiskWwn: string }, gpus: readonly string[]): CreateParams {
  const storage = spec.rootDisk?.storage ?? '';
  const vm = spec.vm;
  // UEFI with the 4m OVMF variables and no pre-enrolled keys: RHCOS boots in either mode, and
  // Secure Boot keys would only be a second thing to keep equal on every node.
  const p: CreateParams = {
    ...commonCreateParams(spec, gpus, 'efitype=4m,pre-enrolled-keys=0'),
    scsihw: 'virtio-scsi-single',
    scsi0: blankDisk(storage, spec.rootDisk?.sizeGib ?? 0, iso.rootDiskWwn),
    [INSTALL_ISO_SLOT]: `${iso.volume},media=cdrom`,
    boot: `order=${(vm?.bootOrder.length ? vm.bootOrder : ['scsi0', INSTALL_ISO_SLOT]).join(';')}`,
  };
  for (const d of vm?.extraDisks ?? []) p[d.slot] = blankDisk(d.storage, d.sizeGib, d.wwn);
  return p;
}

/** `gpus`: PCI addresses of the GPUs to pass through (resolveVmGpus). */
export function diffVm(spec: GuestSpec, current: GuestConfig, gpus: readonly string[]): VmChanges {
  const cur = current.values;
  const { set, del, resize, summary, put, drop } = configDiff(cur);
  const vm = spec.vm;

  if (spec.hostname && cur['name'] !== spec.hostname) put('name', spec.hostname);
  if (spec.cores > 0 && cur['cores'] !== String(spec.cores)) put('cores', String(spec.cores));
  if (spec.memoryMib > 0 && parsePropertyString(cur['memory'] ?? '', 'current').get('current') !== String(spec.memoryMib)) {
    put('memory', String(spec.memoryMib));
  }
  if (spec.onboot && !parsePveBool(cur['onboot'])) put('onboot', '1');
  if (!spec.onboot && parsePveBool(cur['onboot'])) drop('onboot');
  if (spec.startup) {
    const v = startupValue(spec.startup);
    const a = parsePropertyString(cur['startup'] ?? '', 'order');
    const b = parsePropertyString(v, 'order');
    if (!['order', 'up', 'down'].every((k) => (a.get(k) ?? '') === (b.get(k) ?? ''))) put('startup', v);
  }
  if (spec.tags.length > 0) {
    const v = [...new Set(spec.tags)].sort().join(';');
    const c = [...new Set((cur['tags'] ?? '').split(/[;, ]+/).filter(Boolean))].sort().join(';');
    if (c !== v) put('tags', v);
  }
  if (spec.description) {
    const { human, record } = splitDescription(cur['description'] ?? '');
    if (human !== spec.description.replace(/\s+$/, '')) put('description', composeDescription(spec.description, record), 'description: changed');
  }
  if (spec.nameservers.length > 0 && (cur['nameserver'] ?? '').split(/\s+/).join(' ') !== spec.nameservers.join(' ')) {
    put('nameserver', spec.nameservers.join(' '));
  }
  if (spec.searchDomain && cur['searchdomain'] !== spec.searchDomain) put('searchdomain', spec.searchDomain);

  if (spec.networks.length > 0) {
    const wanted = new Set(spec.networks.map((n) => `net${n.index}`));
    for (const n of spec.networks) {
      const key = `net${n.index}`;
      const existing = cur[key];
      if (!existing || !sameNic(existing, n)) put(key, vmNetValue(n, existing ? nicOf(existing).mac : undefined));
      const ipc = ipconfigValue(n);
      if (ipc && !sameIpconfig(cur[`ipconfig${n.index}`], ipc)) put(`ipconfig${n.index}`, ipc);
    }
    for (const key of Object.keys(cur)) {
      const m = /^(net|ipconfig)(\d+)$/.exec(key);
      if (m && !wanted.has(`net${m[2]}`)) drop(key);
    }
  }

  if (vm) {
    if (vm.guestAgent && !parsePveBool(parsePropertyString(cur['agent'] ?? '', 'enabled').get('enabled'))) put('agent', 'enabled=1');
    if (vm.bios && (cur['bios'] ?? 'seabios') !== vm.bios) put('bios', vm.bios);
    if (vm.machine && cur['machine'] !== vm.machine) put('machine', vm.machine);
    if (vm.osType && cur['ostype'] !== vm.osType) put('ostype', vm.osType);
    if (vm.cpuType && parsePropertyString(cur['cpu'] ?? '', 'cputype').get('cputype') !== vm.cpuType) put('cpu', vm.cpuType);
    if (vm.bootOrder.length > 0) {
      const v = `order=${vm.bootOrder.join(';')}`;
      if (parsePropertyString(cur['boot'] ?? '', 'order').get('order') !== vm.bootOrder.join(';')) put('boot', v);
    }
    if (vm.iso) {
      const v = `${vm.iso},media=cdrom`;
      if (parsePropertyString(cur[ISO_SLOT] ?? '', 'file').get('file') !== vm.iso) put(ISO_SLOT, v);
    } else if (cur[ISO_SLOT] && /media=cdrom/.test(cur[ISO_SLOT])) {
      drop(ISO_SLOT);
    }
    const ci = vm.cloudInit;
    if (ci?.user && cur['ciuser'] !== ci.user) put('ciuser', ci.user);
    const cic = cicustomValue(spec);
    if (cic) {
      const a = parsePropertyString(cur['cicustom'] ?? '');
      const b = parsePropertyString(cic);
      if (['user', 'network', 'meta', 'vendor'].some((k) => (a.get(k) ?? '') !== (b.get(k) ?? ''))) put('cicustom', cic);
    }
    for (const [i, d] of vm.extraDisks.entries()) {
      const existing = cur[d.slot];
      if (!existing) {
        put(d.slot, `${d.storage}:${d.sizeGib}`, `${d.slot}: add ${d.sizeGib}G on ${d.storage}`);
        continue;
      }
      const have = parseDiskSize(parsePropertyString(existing, 'file').get('size') ?? '');
      const haveG = have === undefined ? undefined : have / 1024 ** 3;
      if (haveG !== undefined && d.sizeGib < haveG - 1e-9) {
        throw new InvalidArgumentError(`vm.extra_disks[${i}].size_gib`, d.sizeGib, `cannot shrink ${d.slot} from ${haveG}G`);
      }
      if (haveG !== undefined && d.sizeGib > haveG + 1e-9) {
        resize.push({ disk: d.slot, size: `${d.sizeGib}G` });
        summary.push(`${d.slot}: ${haveG}G → ${d.sizeGib}G`);
      }
    }
  }

  // GPUs: exactly the spec's hostpciN entries, with pcie=1 on a q35 machine.
  const pci = planHostPci(cur, gpus);
  for (const [k, v] of Object.entries(pci.set)) put(k, v, `${k}: pass through ${v.split(',')[0] ?? v}`);
  for (const k of pci.delete) {
    del.push(k);
    summary.push(`${k}: stop passing through ${cur[k] ?? ''}`);
  }
  if (gpus.length > 0 && !vm?.machine && !isQ35(cur['machine'])) put('machine', 'q35', `machine: ${cur['machine'] ?? 'i440fx'} → q35 (PCIe passthrough)`);

  let sshKeys: string | undefined;
  const wantKeys = vm?.cloudInit?.sshKeys ?? [];
  if (wantKeys.length > 0 && keySet(decodePveEscapes(cur['sshkeys'] ?? '')) !== keySet(wantKeys.join('\n'))) {
    sshKeys = sshKeysText(wantKeys);
    summary.push(`sshkeys: ${wantKeys.length} key(s)`);
  }

  const disk = bootDisk(spec);
  const size = parseDiskSize(parsePropertyString(cur[disk] ?? '', 'file').get('size') ?? '');
  const sizeG = size === undefined ? undefined : size / 1024 ** 3;
  if (spec.rootDisk && spec.rootDisk.sizeGib > 0 && sizeG !== undefined) {
    if (spec.rootDisk.sizeGib < sizeG - 1e-9) {
      throw new InvalidArgumentError('root_disk.size_gib', spec.rootDisk.sizeGib, `cannot shrink ${disk} of VM ${spec.vmid} from ${sizeG}G`);
    }
    if (spec.rootDisk.sizeGib > sizeG + 1e-9) {
      resize.push({ disk, size: `${spec.rootDisk.sizeGib}G` });
      summary.push(`${disk}: ${sizeG}G → ${spec.rootDisk.sizeGib}G`);
    }
  }

  const cloudinitChanged = sshKeys !== undefined || [...Object.keys(set), ...del].some((k) => CLOUDINIT_KEYS.test(k));
  return { set, delete: [...new Set(del)].sort(), sshKeys, resize, cloudinitChanged, summary };
}

export function hasVmChanges(c: VmChanges): boolean {
  return Object.keys(c.set).length > 0 || c.delete.length > 0 || c.resize.length > 0 || c.sshKeys !== undefined;
}
