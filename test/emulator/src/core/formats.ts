import type { FormatHash, PropSchema } from './schema.js';

/**
 * Named formats of PVE::JSONSchema and the modules that register more (qemu-server,
 * pve-container, pve-storage). A code format throws `FormatDie` with the exact die text
 * (ending in "\n"); a hash format is a property-string schema.
 */
export class FormatDie extends Error {
  constructor(message: string) {
    super(message.endsWith('\n') ? message : `${message}\n`);
    this.name = 'FormatDie';
  }
}

const fail = (msg: string): never => {
  throw new FormatDie(msg);
};

const IPV4OCTET = '(?:25[0-5]|(?:2[0-4]|1[0-9]|[1-9])?[0-9])';
export const IPV4RE = `(?:(?:${IPV4OCTET}\\.){3}${IPV4OCTET})`;
const H16 = '(?:[0-9a-fA-F]{1,4})';
const LS32 = `(?:(?:${IPV4RE}|${H16}:${H16}))`;
export const IPV6RE =
  '(?:' +
  `(?:(?:(?:${H16}:){6})${LS32})|` +
  `(?:(?:::(?:${H16}:){5})${LS32})|` +
  `(?:(?:(?:${H16})?::(?:${H16}:){4})${LS32})|` +
  `(?:(?:(?:(?:${H16}:){0,1}${H16})?::(?:${H16}:){3})${LS32})|` +
  `(?:(?:(?:(?:${H16}:){0,2}${H16})?::(?:${H16}:){2})${LS32})|` +
  `(?:(?:(?:(?:${H16}:){0,3}${H16})?::(?:${H16}:){1})${LS32})|` +
  `(?:(?:(?:(?:${H16}:){0,4}${H16})?::)${LS32})|` +
  `(?:(?:(?:(?:${H16}:){0,5}${H16})?::)${H16})|` +
  `(?:(?:(?:(?:${H16}:){0,6}${H16})?::)))`;

const reIPv4 = new RegExp(`^(?:${IPV4RE})$`);
const reIPv6 = new RegExp(`^(?:${IPV6RE})$`);
const reCidr4 = new RegExp(`^(?:${IPV4RE})(?:/(\\d+))$`);
const reCidr6 = new RegExp(`^(?:${IPV6RE})(?:/(\\d+))$`);
const DNS_LABEL = '([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)';
const reDns = new RegExp(`^(${DNS_LABEL}\\.)*${DNS_LABEL}$`);

export const isIPv4 = (v: string): boolean => reIPv4.test(v);
export const isIPv6 = (v: string): boolean => reIPv6.test(v);
export const isIP = (v: string): boolean => isIPv4(v) || isIPv6(v);
export const isDnsName = (v: string): boolean => reDns.test(v);

export function isCidrV4(v: string): boolean {
  const m = reCidr4.exec(v);
  return !!m && Number(m[1]) > 7 && Number(m[1]) <= 32;
}
export function isCidrV6(v: string): boolean {
  const m = reCidr6.exec(v);
  return !!m && Number(m[1]) > 7 && Number(m[1]) <= 128;
}

export const CONFIGID_RE = /^[a-z][a-z0-9_-]+$/i;

/** PVE::Tools::split_list. */
export function splitList(text: string): string[] {
  if (text.includes('\0')) return text.split('\0');
  const t = text.replace(/[,;]/g, ' ').replace(/^\s+/, '');
  return t === '' ? [] : t.split(/\s+/).filter((x, i, a) => !(x === '' && i === a.length - 1));
}

/** PVE::JSONSchema::parse_size: bytes, or undefined. */
export function parseSize(value: string): number | undefined {
  const m = /^(\d+(\.\d+)?)([KMGT](?:iB)?)?$/.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[3] ?? '').charAt(0);
  const mult: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
  return n * (mult[unit] ?? 1);
}

/** PVE::JSONSchema::format_size. */
export function formatSize(size: number): string {
  size = Math.floor(size);
  const kb = Math.floor(size / 1024);
  if (kb * 1024 !== size) return String(size);
  const mb = Math.floor(kb / 1024);
  if (mb * 1024 !== kb) return `${kb}K`;
  const gb = Math.floor(mb / 1024);
  if (gb * 1024 !== mb) return `${mb}M`;
  const tb = Math.floor(gb / 1024);
  if (tb * 1024 !== gb) return `${gb}G`;
  return `${tb}T`;
}

export function parseStartupOrder(value: string): Record<string, string> | undefined {
  if (!value) return undefined;
  const res: Record<string, string> = {};
  for (const p of value.split(',')) {
    if (/^\s*$/.test(p)) continue;
    let m: RegExpExecArray | null;
    if ((m = /^(order=)?(\d+)$/.exec(p))) res['order'] = m[2] ?? '';
    else if ((m = /^up=(\d+)$/.exec(p))) res['up'] = m[1] ?? '';
    else if ((m = /^down=(\d+)$/.exec(p))) res['down'] = m[1] ?? '';
    else return undefined;
  }
  return res;
}

function parseId(id: string, type: string): string {
  if (id.length < 2) fail(`${type} ID '${id}' cannot be shorter than 2 characters`);
  if (!/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(id)) fail(`${type} ID '${id}' contains illegal characters`);
  return id;
}

export function parseVolumeId(volid: string): [string, string] | undefined {
  const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/is.exec(volid);
  return m ? [m[1] ?? '', m[2] ?? ''] : undefined;
}

function verifyVolumeId(v: string): void {
  if (!parseVolumeId(v)) fail(`unable to parse volume ID '${v}'`);
}

function verifyVolumeIdOrAbsPath(v: string): void {
  if (v.startsWith('/')) return;
  verifyVolumeId(v);
}

const VALID_CONTENT = ['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'import'];

function verifyIpv4Config(v: string): void {
  if (/^(?:dhcp|manual)$/.test(v) || isCidrV4(v)) return;
  fail('value does not look like a valid ipv4 network configuration');
}
function verifyIpv6Config(v: string): void {
  if (/^(?:auto|dhcp|manual)$/.test(v) || isCidrV6(v)) return;
  fail('value does not look like a valid ipv6 network configuration');
}

function verifyIpWithLlIface(v: string): void {
  const m = /^(fe80:[^%]+)%(.*)$/.exec(v);
  if (m && isIP(m[1] ?? '') && /^[a-z][a-z0-9_]{1,20}([:.]\d+)?$/i.test(m[2] ?? '')) return;
  if (!isIP(v)) fail('value does not look like a valid IP address');
}

function knownTimezone(tz: string): boolean {
  if (tz === 'UTC') return true;
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone').includes(tz);
  } catch {
    return true;
  }
}

const VALID_DRIVE = /^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|efidisk0|tpmstate0)$/;

/** Code formats: validate and throw FormatDie like the Perl verifier. */
export const CODE_FORMATS: Record<string, (v: string) => void> = {
  string: () => {},
  urlencoded: (v) => {
    if (!/^[-%a-zA-Z0-9_.!~*'()]*$/.test(v)) fail(`invalid urlencoded string: ${v}`);
  },
  'pve-configid': (v) => {
    if (!CONFIGID_RE.test(v)) fail(`invalid configuration ID '${v}'`);
  },
  'pve-storage-id': (v) => void parseId(v, 'storage'),
  'pve-bridge-id': (v) => {
    if (!/^[-_.\w\d]+$/.test(v)) fail(`invalid bridge ID '${v}'`);
  },
  'pve-vmid': (v) => {
    if (!/^[1-9][0-9]{2,8}$/.test(v)) fail('value does not look like a valid VM ID');
  },
  'pve-node': (v) => {
    if (!/^(?=.{1,63}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(v)) fail('value does not look like a valid node name');
  },
  'mac-addr': (v) => {
    if (!/^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i.test(v)) fail('value does not look like a valid unicast MAC address');
  },
  ipv4: (v) => {
    if (!isIPv4(v)) fail('value does not look like a valid IPv4 address');
  },
  ipv6: (v) => {
    if (!isIPv6(v)) fail('value does not look like a valid IPv6 address');
  },
  ip: (v) => {
    if (!isIP(v)) fail('value does not look like a valid IP address');
  },
  CIDRv4: (v) => {
    if (!isCidrV4(v)) fail('value does not look like a valid IPv4 CIDR network');
  },
  CIDRv6: (v) => {
    if (!isCidrV6(v)) fail('value does not look like a valid IPv6 CIDR network');
  },
  CIDR: (v) => {
    if (!isCidrV4(v) && !isCidrV6(v)) fail('value does not look like a valid CIDR network');
  },
  'pve-ipv4-config': verifyIpv4Config,
  'pve-ipv6-config': verifyIpv6Config,
  'dns-name': (v) => {
    if (!isDnsName(v)) fail('value does not look like a valid DNS name');
  },
  address: (v) => {
    if (!isIP(v) && !isDnsName(v)) fail(`value does not look like a valid address: ${v}`);
  },
  'disk-size': (v) => {
    if (parseSize(v) === undefined) fail(`value does not look like a valid disk size: ${v}`);
  },
  'pve-startup-order': (v) => {
    if (!parseStartupOrder(v)) fail('unable to parse startup options');
  },
  'pve-tag': (v) => {
    if (!/^[a-z0-9_][a-z0-9_\-+.]*$/i.test(v)) fail('invalid characters in tag');
  },
  'pve-iface': (v) => {
    if (!/^[a-z][a-z0-9_]{1,20}([:.]\d+)?$/i.test(v)) fail(`invalid network interface name '${v}'`);
  },
  'pve-poolid': (v) => {
    if (!/^[A-Za-z0-9.\-_]+(?:\/[A-Za-z0-9.\-_]+){0,2}$/.test(v)) fail(`invalid pool ID '${v}'`);
  },
  'pve-cpuset': (v) => {
    for (const part of v.split(',')) {
      const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
      if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1]))) fail('unable to parse cpuset option');
    }
  },
  'pve-volume-id': verifyVolumeId,
  'pve-volume-id-or-absolute-path': verifyVolumeIdOrAbsPath,
  'pve-volume-id-or-qm-path': (v) => {
    if (v === 'none' || v === 'cdrom') return;
    verifyVolumeIdOrAbsPath(v);
  },
  'pve-lxc-mp-string': (v) => {
    if (/\/\.\.?\//.test(v) || /\/\.\.?$/.test(v) || /^\.\.\//.test(v)) fail(`${v} contains illegal character sequences`);
  },
  'pve-lxc-dev-string': (v) => {
    if (/\/\.\.?(?:\/|$)/.test(v) || !v.startsWith('/dev/')) fail(`${v} is not a valid device path`);
  },
  'lxc-ip-with-ll-iface': verifyIpWithLlIface,
  'pve-ct-timezone': (v) => {
    if (v === 'host') return;
    if (!knownTimezone(v)) fail(`invalid time zone '${v}'`);
  },
  timezone: (v) => {
    if (!knownTimezone(v)) fail(`invalid time zone '${v}'`);
  },
  'pve-qm-bootdisk': (v) => {
    if (!VALID_DRIVE.test(v)) fail(`invalid boot disk '${v}'`);
  },
  'pve-qm-bootdev': (v) => {
    if (VALID_DRIVE.test(v) && !/^(efidisk|tpmstate)/.test(v)) return;
    if (/^net([0-9]|[12][0-9]|3[01])$/.test(v) || /^usb([0-9]|1[0-3])$/.test(v) || /^hostpci([0-9]|1[0-5])$/.test(v)) return;
    fail(`invalid boot device '${v}'`);
  },
  'pve-hotplug-features': (v) => {
    if (v === '0' || v === '1') return;
    for (const f of splitList(v)) if (!/^(network|disk|cpu|memory|usb|cloudinit)$/.test(f)) fail('unable to parse hotplug option');
  },
  'pve-phys-bits': (v) => {
    if (!/^(host|\d{1,2})$/.test(v) || (/^\d+$/.test(v) && (Number(v) < 8 || Number(v) > 64))) {
      fail("value must be an integer between 8 and 64 or 'host'");
    }
  },
  'pve-storage-path': (v) => {
    if (!/^\/[^;()]+/.test(v)) fail('value does not look like a valid absolute path');
  },
  'pve-storage-server': (v) => {
    if (!isIP(v) && !isDnsName(v)) fail('value does not look like a valid server name or IP address');
  },
  'pve-storage-vgname': (v) => {
    if (!/^[a-z0-9][a-z0-9\-_.]*[a-z0-9]$/i.test(v)) fail(`lvm name '${v}' contains illegal characters`);
  },
  'pve-storage-portal-dns': (v) => {
    const host = v.replace(/^\[(.*)\](?::\d+)?$/, '$1').replace(/^([^:]+):\d+$/, '$1');
    if (!isIP(host) && !isDnsName(host)) fail('value does not look like a valid portal address');
  },
  'pve-storage-content': (v) => {
    if (!VALID_CONTENT.includes(v) && v !== 'none') fail(`invalid content type '${v}'`);
  },
  'pve-storage-format': (v) => {
    if (!/^(raw|qcow2|vmdk|subvol)$/.test(v)) fail(`invalid format '${v}'`);
  },
  'pve-storage-options': (v) => {
    if (!/^\S+$/.test(v)) fail(`invalid options '${v}'`);
  },
  'pve-dir-override': (v) => {
    if (!/^([a-z]+)=([^.]*(?:\.?[^.]+)+)$/.test(v)) fail(`invalid override '${v}'`);
  },
  'storage-pair': (v) => {
    if (!/^(?:[a-z][a-z0-9\-_.]*[a-z0-9](?::[a-z][a-z0-9\-_.]*[a-z0-9])?|1)$/i.test(v)) fail(`invalid storage pair '${v}'`);
  },
};

const bool = (extra: Partial<PropSchema> = {}): PropSchema => ({ type: 'boolean', optional: 1, ...extra });
const str = (extra: Partial<PropSchema> = {}): PropSchema => ({ type: 'string', optional: 1, ...extra });
const int = (extra: Partial<PropSchema> = {}): PropSchema => ({ type: 'integer', optional: 1, ...extra });
const B64 = '[A-Za-z0-9+\\/]+={0,2}';

/** Hash formats registered by name (their definitions are not part of the API viewer data). */
export const HASH_FORMATS: Record<string, FormatHash> = {
  'pve-qm-ipconfig': {
    ip: str({ format: 'pve-ipv4-config', format_description: 'IPv4Format/CIDR', default: 'dhcp' }),
    gw: str({ format: 'ipv4', format_description: 'GatewayIPv4', requires: 'ip' }),
    ip6: str({ format: 'pve-ipv6-config', format_description: 'IPv6Format/CIDR', default: 'dhcp' }),
    gw6: str({ format: 'ipv6', format_description: 'GatewayIPv6', requires: 'ip6' }),
  },
  'pve-qm-boot': {
    legacy: str({ default_key: 1, pattern: '[acdn]{1,4}', default: 'cdn' }),
    order: str({ format: 'pve-qm-bootdev-list' }),
  },
  'pve-qm-cicustom': {
    meta: str({ format: 'pve-volume-id' }),
    network: str({ format: 'pve-volume-id' }),
    user: str({ format: 'pve-volume-id' }),
    vendor: str({ format: 'pve-volume-id' }),
  },
  'pve-qm-watchdog': {
    model: str({ default_key: 1, enum: ['i6300esb', 'ib700'], default: 'i6300esb' }),
    action: str({ enum: ['reset', 'shutdown', 'poweroff', 'pause', 'debug', 'none'] }),
  },
  'pve-qm-rng': {
    source: { type: 'string', default_key: 1, enum: ['/dev/urandom', '/dev/random', '/dev/hwrng'] },
    max_bytes: int({ default: 1024 }),
    period: int({ default: 1000 }),
  },
  'pve-qm-smbios1': {
    uuid: str({ pattern: '[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}' }),
    version: str({ pattern: B64 }),
    serial: str({ pattern: B64 }),
    manufacturer: str({ pattern: B64 }),
    product: str({ pattern: B64 }),
    sku: str({ pattern: B64 }),
    family: str({ pattern: B64 }),
    base64: bool(),
  },
  'pve-vm-cpu-conf': {
    cputype: str({ default_key: 1, default: 'kvm64', pattern: '[a-zA-Z0-9_.+-]+|custom-[a-zA-Z0-9_.+-]+' }),
    'reported-model': str(),
    hidden: bool({ default: 0 }),
    'hv-vendor-id': str({ pattern: '[a-zA-Z0-9]{1,12}' }),
    flags: str({ pattern: '(?:[+-][a-zA-Z0-9._-]+)(?:;[+-][a-zA-Z0-9._-]+)*' }),
    'phys-bits': str({ format: 'pve-phys-bits' }),
    'guest-phys-bits': int({ minimum: 32, maximum: 64 }),
  },
  'pve-qm-hostpci': {
    host: str({ default_key: 1, pattern: '(?:(?:[a-f0-9]{4,}:)?[a-f0-9]{2}:[a-f0-9]{2}(?:\\.[a-f0-9])?)(?:;(?:(?:[a-f0-9]{4,}:)?[a-f0-9]{2}:[a-f0-9]{2}(?:\\.[a-f0-9])?))*' }),
    mapping: str({ format: 'pve-configid' }),
    rombar: bool({ default: 1 }),
    romfile: str(),
    pcie: bool({ default: 0 }),
    'x-vga': bool({ default: 0 }),
    'legacy-igd': bool({ default: 0 }),
    mdev: str(),
    driver: str({ enum: ['vfio', 'keep'] }),
    'vendor-id': str({ pattern: '(?:0x)?[0-9a-fA-F]{4}' }),
    'device-id': str({ pattern: '(?:0x)?[0-9a-fA-F]{4}' }),
    'sub-vendor-id': str({ pattern: '(?:0x)?[0-9a-fA-F]{4}' }),
    'sub-device-id': str({ pattern: '(?:0x)?[0-9a-fA-F]{4}' }),
  },
  'pve-qemu-sev-fmt': {
    type: { type: 'string', default_key: 1, enum: ['std', 'es', 'snp'], maxLength: 3 },
    'no-debug': bool({ default: 0 }),
    'no-key-sharing': bool({ default: 0 }),
    'allow-smt': bool({ default: 1 }),
    'kernel-hashes': bool({ default: 0 }),
  },
  'pve-qemu-tdx-fmt': {
    type: { type: 'string', default_key: 1, enum: ['tdx'] },
    attestation: { type: 'boolean', default: 1 },
    'vsock-cid': int({ minimum: 2, default: 2 }),
    'vsock-port': int({ minimum: 0, default: 4050 }),
  },
  'prune-backups': {
    'keep-all': bool(),
    'keep-last': int({ minimum: 1 }),
    'keep-hourly': int({ minimum: 1 }),
    'keep-daily': int({ minimum: 1 }),
    'keep-weekly': int({ minimum: 1 }),
    'keep-monthly': int({ minimum: 1 }),
    'keep-yearly': int({ minimum: 1 }),
  },
};

/** Formats that are property strings but are defined inline under another name. */
export function registerHashFormat(name: string, format: FormatHash): void {
  HASH_FORMATS[name] ??= format;
}
