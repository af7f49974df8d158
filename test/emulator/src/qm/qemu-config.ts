import fs from 'node:fs';
import type { ConfSection } from '../core/config-file.js';
import { loadApiParams } from '../core/data-files.js';
import { registerHashFormat } from '../core/formats.js';
import { randomMac } from '../guest-common/guest-options.js';
import { parsePropertyString, printPropertyString, tryParsePropertyString } from '../core/property-string.js';
import type { FormatHash } from '../core/schema.js';

/** VM config helpers (PVE::QemuServer::Drive / Network). */

function createFormat(param: string): FormatHash {
  const f = loadApiParams().endpoints['POST /nodes/{node}/qemu']?.parameters.properties[param]?.format;
  if (!f || typeof f !== 'object') throw new Error(`qemu format for '${param}' missing from api-params.json`);
  return f;
}

let registered = false;
/** Named formats whose definitions come from the inline API schemas (the `cdrom` parameter). */
export function registerQemuFormats(): void {
  if (registered) return;
  registered = true;
  registerHashFormat('pve-qm-ide', createFormat('ide[n]'));
}

export const DRIVE_RE = /^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|efidisk0|tpmstate0)$/;

export function isDriveKey(key: string): boolean {
  return DRIVE_RE.test(key);
}

export function driveFormat(key: string): FormatHash {
  const m = /^(ide|sata|scsi|virtio|efidisk|tpmstate|unused)/.exec(key);
  const base = m?.[1] ?? 'scsi';
  if (base === 'efidisk' || base === 'tpmstate') return createFormat(key);
  return createFormat(`${base}[n]`);
}

export type Drive = Record<string, string>;

export function parseDrive(key: string, value: string): Drive | undefined {
  return tryParsePropertyString(driveFormat(key), value);
}

export function printDrive(key: string, drive: Drive): string {
  return printPropertyString(drive, driveFormat(key));
}

export function driveIsCloudinit(drive: Drive): boolean {
  return /[:/](?:vm-\d+-)?cloudinit(?:\.(?:raw|qcow2|vmdk))?$/.test(drive['file'] ?? '');
}

export function driveIsCdrom(drive: Drive, excludeCloudinit = false): boolean {
  if (excludeCloudinit && driveIsCloudinit(drive)) return false;
  return drive['media'] === 'cdrom';
}

/** Drive keys of a config section in PVE's order (ide, sata, scsi, virtio, efidisk0, tpmstate0). */
export function driveKeys(props: Record<string, string>): string[] {
  const order = ['ide', 'sata', 'scsi', 'virtio', 'efidisk', 'tpmstate'];
  return Object.keys(props)
    .filter(isDriveKey)
    .sort((a, b) => {
      const ia = order.findIndex((o) => a.startsWith(o));
      const ib = order.findIndex((o) => b.startsWith(o));
      if (ia !== ib) return ia - ib;
      return Number(a.replace(/\D+/, '')) - Number(b.replace(/\D+/, ''));
    });
}

/** Storage volumes used by disks (not cdroms; cloud-init included unless `noCloudinit`). */
export function vmDiskVolumes(section: ConfSection, opts: { withCloudinit: boolean }): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const key of driveKeys(section.props)) {
    const d = parseDrive(key, section.props[key] ?? '');
    if (!d || !d['file'] || d['file'] === 'none' || d['file'] === 'cdrom') continue;
    if (driveIsCdrom(d, opts.withCloudinit)) continue;
    if (d['file'].startsWith('/')) continue;
    out.push([key, d['file']]);
  }
  return out;
}

export const netFormat = (): FormatHash => createFormat('net[n]');

export function normaliseQemuNet(value: string): string {
  const net = parsePropertyString(netFormat(), value);
  net['macaddr'] ??= randomMac();
  return printPropertyString(net, netFormat());
}

export function regenerateMac(value: string): string {
  const net = parsePropertyString(netFormat(), value);
  net['macaddr'] = randomMac();
  return printPropertyString(net, netFormat());
}

/** Memory in MiB from the `memory` property string (`[current=]<int>`, default 512). */
export function memoryMiB(props: Record<string, string>): number {
  const v = props['memory'];
  if (!v) return 512;
  const m = /(?:^|,)(?:current=)?(\d+)/.exec(v);
  return m ? Number(m[1]) : 512;
}

export function vcpus(props: Record<string, string>): number {
  const sockets = Number(props['sockets'] ?? 1) || 1;
  const cores = Number(props['cores'] ?? 1) || 1;
  return Number(props['vcpus'] ?? 0) || sockets * cores;
}

/** Boot disk: first device of `boot: order=...` that is a disk, else the first disk. */
export function bootDisk(props: Record<string, string>): string | undefined {
  const boot = props['boot'];
  const m = boot ? /(?:^|,)order=([^,]+)/.exec(boot) : null;
  if (m) {
    for (const dev of (m[1] ?? '').split(';')) {
      if (!isDriveKey(dev) || !props[dev]) continue;
      const d = parseDrive(dev, props[dev] ?? '');
      if (d && !driveIsCdrom(d)) return dev;
    }
  }
  if (props['bootdisk'] && props[props['bootdisk']]) return props['bootdisk'];
  return driveKeys(props).find((k) => {
    const d = parseDrive(k, props[k] ?? '');
    return d !== undefined && !driveIsCdrom(d);
  });
}

/** get_default_bootdevices + print_bootorder. */
export function defaultBootOrder(props: Record<string, string>): string {
  const devs: string[] = [];
  const keys = driveKeys(props).filter((k) => !/^(efidisk|tpmstate)/.test(k));
  const disk = keys.find((k) => {
    const d = parseDrive(k, props[k] ?? '');
    return d !== undefined && !driveIsCdrom(d);
  });
  if (disk) devs.push(disk);
  const cd = keys.find((k) => {
    const d = parseDrive(k, props[k] ?? '');
    return d !== undefined && driveIsCdrom(d) && !driveIsCloudinit(d);
  });
  if (cd) devs.push(cd);
  for (let i = 0; i < 32; i++) {
    if (props[`net${i}`]) {
      devs.push(`net${i}`);
      break;
    }
  }
  return devs.length ? `order=${devs.join(';')}` : '';
}

/** Virtual size of a disk image file: qcow2 header, else the file size. */
export function imageVirtualSize(file: string): number {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(32);
    const n = fs.readSync(fd, buf, 0, 32, 0);
    if (n >= 32 && buf.readUInt32BE(0) === 0x514649fb) return Number(buf.readBigUInt64BE(24));
    return fs.fstatSync(fd).size;
  } finally {
    fs.closeSync(fd);
  }
}

export const CLOUDINIT_OPTIONS = new Set(['cicustom', 'cipassword', 'citype', 'ciupgrade', 'ciuser', 'nameserver', 'searchdomain', 'sshkeys']);

export function isCloudinitOption(opt: string): boolean {
  return CLOUDINIT_OPTIONS.has(opt) || /^ipconfig\d+$/.test(opt);
}
