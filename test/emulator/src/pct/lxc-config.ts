import type { GuestConfig } from '../core/config-file.js';
import { loadApiParams } from '../core/data-files.js';
import { parsePropertyString, printPropertyString, tryParsePropertyString } from '../core/property-string.js';
import type { FormatHash } from '../core/schema.js';
import { randomMac } from '../guest-common/guest-options.js';

/** Container config helpers (PVE::LXC::Config): mount points, network, defaults. */

function fmt(name: string): FormatHash {
  const f = loadApiParams().formats[name]?.format;
  if (!f || typeof f !== 'object') throw new Error(`format '${name}' missing from api-params.json`);
  return f as FormatHash;
}

export const rootfsFormat = (): FormatHash => fmt('lxc rootfs');
export const mpFormat = (): FormatHash => fmt('lxc mp[n]');
export const netFormat = (): FormatHash => fmt('lxc net[n]');
export const featuresFormat = (): FormatHash => fmt('lxc features');

export interface MountPoint {
  volume: string;
  mp?: string;
  size?: string;
  [k: string]: string | undefined;
}

export function mountFormat(key: string): FormatHash {
  return key === 'rootfs' ? rootfsFormat() : mpFormat();
}

export function parseMountPoint(key: string, value: string): MountPoint {
  return parsePropertyString(mountFormat(key), value) as MountPoint;
}

export function printMountPoint(key: string, mp: MountPoint): string {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(mp)) if (v !== undefined) data[k] = v;
  return printPropertyString(data, mountFormat(key));
}

/** classify_mountpoint. */
export function mountType(volume: string): 'volume' | 'bind' | 'device' {
  if (volume.startsWith('/')) return volume.startsWith('/dev') ? 'device' : 'bind';
  return 'volume';
}

export const NEW_DISK_RE = /^([^:\s]+):(\d+(\.\d+)?)$/;

/** foreach_volume: rootfs first, then mp0..mp255 in order. */
export function mountKeys(props: Record<string, string>): string[] {
  const mps = Object.keys(props)
    .filter((k) => /^mp\d+$/.test(k))
    .sort((a, b) => Number(a.slice(2)) - Number(b.slice(2)));
  return [...(props['rootfs'] !== undefined ? ['rootfs'] : []), ...mps];
}

/** Volumes (storage volids) the config uses, as [key, mountpoint]. */
export function configVolumes(props: Record<string, string>): Array<[string, MountPoint]> {
  const out: Array<[string, MountPoint]> = [];
  for (const key of mountKeys(props)) {
    const mp = tryParsePropertyString(mountFormat(key), props[key] ?? '') as MountPoint | undefined;
    if (mp && mountType(mp.volume) === 'volume') out.push([key, mp]);
  }
  return out;
}

export function unusedVolumes(props: Record<string, string>): string[] {
  return Object.keys(props)
    .filter((k) => /^unused\d+$/.test(k))
    .map((k) => props[k] ?? '');
}

/** parse_lxc_network + the defaults PVE adds (hwaddr, type=veth). */
export function normaliseNet(value: string): string {
  const net = parsePropertyString(netFormat(), value);
  net['type'] ??= 'veth';
  net['hwaddr'] ??= randomMac();
  return printPropertyString(net, netFormat());
}

export function parseNet(value: string): Record<string, string> | undefined {
  return tryParsePropertyString(netFormat(), value);
}

/** OS type detected from the template name (PVE reads /etc/os-release of the rootfs). */
export function detectOstype(template: string): string {
  const base = template.replace(/^.*[/:]/, '').toLowerCase();
  const table: Array<[RegExp, string]> = [
    [/^debian/, 'debian'],
    [/^ubuntu/, 'ubuntu'],
    [/^devuan/, 'devuan'],
    [/^alpine/, 'alpine'],
    [/^archlinux/, 'archlinux'],
    [/^(centos|rockylinux|almalinux)/, 'centos'],
    [/^fedora/, 'fedora'],
    [/^opensuse/, 'opensuse'],
    [/^gentoo/, 'gentoo'],
    [/^nixos/, 'nixos'],
  ];
  for (const [re, os] of table) if (re.test(base)) return os;
  return 'unmanaged';
}

export function detectArch(template: string): string {
  if (/_arm64\./.test(template)) return 'arm64';
  if (/_i386\./.test(template)) return 'i386';
  return 'amd64';
}

export function rootfsSize(conf: GuestConfig): number {
  const mp = tryParsePropertyString(rootfsFormat(), conf.props['rootfs'] ?? '');
  const size = mp?.['size'];
  if (!size) return 4 * 1024 ** 3;
  const m = /^(\d+(?:\.\d+)?)([KMGT])?$/.exec(size);
  if (!m) return 4 * 1024 ** 3;
  const mult: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
  return Number(m[1]) * (mult[m[2] ?? ''] ?? 1);
}
