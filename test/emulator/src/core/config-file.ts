import type { GuestType } from './state.js';

/**
 * PVE guest config files as written to /etc/pve: a `#`-comment description, sorted `key: value`
 * lines, raw `lxc.*` entries (containers), then a pending section and one section per snapshot.
 * (PVE::LXC::Config parse/write_pct_config, PVE::QemuServer parse/write_vm_config.)
 */
export interface ConfSection {
  description?: string;
  props: Record<string, string>;
  /** Raw `lxc.*` entries in file order (containers only). */
  lxc: Array<[string, string]>;
}

export interface GuestConfig extends ConfSection {
  pending: ConfSection;
  snapshots: Record<string, ConfSection>;
  /** qemu `[special:cloudinit]` and similar sections. */
  special: Record<string, Record<string, string>>;
}

export function emptyConfig(): GuestConfig {
  return { props: {}, lxc: [], pending: { props: {}, lxc: [] }, snapshots: {}, special: {} };
}

/** PVE::Tools::encode_text: control and non-ASCII characters, ':' and '%' become %XX. */
export function encodeText(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const safe = (byte >= 0x20 && byte <= 0x24) || (byte >= 0x26 && byte <= 0x39) || (byte >= 0x3b && byte <= 0x7e);
    out += safe ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeText(text: string): string {
  try {
    return decodeURIComponent(text.replace(/%(?![0-9a-fA-F]{2})/g, '%25'));
  } catch {
    return text;
  }
}

/** Parses a config file; `warn` receives the warnings PVE prints for lines it cannot parse. */
export function parseConfig(raw: string, type: GuestType, vmid: number, warn: (msg: string) => void = () => {}): GuestConfig {
  const res = emptyConfig();
  let conf: ConfSection = res;
  let section = '';
  let descr = '';
  const closeDescr = (): void => {
    if (descr) conf.description = descr;
    descr = '';
  };
  const pendingRe = type === 'lxc' ? /^\[pve:pending\]\s*$/i : /^\[PENDING\]\s*$/i;
  let special: Record<string, string> | undefined;
  for (const line of raw.split('\n')) {
    if (/^\s*$/.test(line)) continue;
    let m: RegExpExecArray | null;
    if (pendingRe.test(line)) {
      closeDescr();
      section = 'pending';
      conf = res.pending = { props: {}, lxc: [] };
      special = undefined;
      continue;
    }
    if (type === 'qemu' && (m = /^\[special:([a-z][a-z0-9_-]*)\]\s*$/i.exec(line))) {
      closeDescr();
      section = `special:${m[1]}`;
      special = res.special[m[1] ?? ''] = {};
      conf = { props: {}, lxc: [] };
      continue;
    }
    if ((m = /^\[([a-z][a-z0-9_-]+)\]\s*$/i.exec(line))) {
      closeDescr();
      section = m[1] ?? '';
      conf = res.snapshots[section] = { props: {}, lxc: [] };
      special = undefined;
      continue;
    }
    if ((m = /^#(.*)$/.exec(line))) {
      descr += `${decodeText(m[1] ?? '')}\n`;
      continue;
    }
    if (special && (m = /^([a-z][a-z_]*\d*):\s*(.+?)\s*$/.exec(line))) {
      special[m[1] ?? ''] = m[2] ?? '';
      continue;
    }
    if (type === 'lxc' && (m = /^(lxc\.[a-z0-9_\-.]+)(:|\s*=)\s*(.*?)\s*$/.exec(line))) {
      conf.lxc.push([m[1] ?? '', m[3] ?? '']);
      continue;
    }
    if ((m = /^(description):\s*(.*\S)\s*$/.exec(line))) {
      descr += decodeText(m[2] ?? '');
      continue;
    }
    if ((m = /snapstate:\s*(prepare|delete)\s*$/.exec(line))) {
      conf.props['snapstate'] = m[1] ?? '';
      continue;
    }
    if ((m = /^delete:\s*(.*\S)\s*$/.exec(line))) {
      if (section === 'pending') conf.props['delete'] = m[1] ?? '';
      else warn(`vm ${vmid} - property 'delete' is only allowed in [${type === 'lxc' ? 'pve:pending' : 'PENDING'}]\n`);
      continue;
    }
    if ((m = /^([a-z][a-z_]*\d*):\s*(.+?)\s*$/.exec(line))) {
      conf.props[m[1] ?? ''] = m[2] ?? '';
      continue;
    }
    warn(`vm ${vmid} - unable to parse config: ${line}\n`);
  }
  closeDescr();
  return res;
}

function sectionText(s: ConfSection): string {
  let raw = '';
  for (const cl of (s.description ?? '').split('\n')) if (cl !== '') raw += `#${encodeText(cl)}\n`;
  for (const key of Object.keys(s.props).sort()) {
    const value = s.props[key];
    if (value === undefined) continue;
    if (value.includes('\n')) throw new Error(`detected invalid newline inside property '${key}'`);
    raw += `${key}: ${value}\n`;
  }
  for (const [k, v] of s.lxc) raw += `${k}: ${v}\n`;
  return raw;
}

export function writeConfigText(conf: GuestConfig, type: GuestType): string {
  let raw = sectionText(conf);
  if (Object.keys(conf.pending.props).length || conf.pending.lxc.length) {
    raw += `\n[${type === 'lxc' ? 'pve:pending' : 'PENDING'}]\n${sectionText(conf.pending)}`;
  }
  for (const [name, sp] of Object.entries(conf.special).sort(([a], [b]) => (a < b ? -1 : 1))) {
    raw += `\n[special:${name}]\n${sectionText({ props: sp, lxc: [] })}`;
  }
  for (const name of Object.keys(conf.snapshots).sort()) {
    const snap = conf.snapshots[name];
    if (snap) raw += `\n[${name}]\n${sectionText(snap)}`;
  }
  return raw;
}
