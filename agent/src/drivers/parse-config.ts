/**
 * Parsers for what `pct config` / `qm config` print: sorted `key: value` lines, raw `lxc.*`
 * lines last in file order, the description URL-style escaped, and property strings such as
 * `name=eth0,bridge=vmbr0,ip=10.0.0.5/24` inside the values.
 */

export interface RawLxcLine {
  key: string;
  value: string;
}

export interface GuestConfig {
  /** Every non-`lxc.*` key with its value as printed (description already unescaped). */
  values: Record<string, string>;
  /** Raw `lxc.*` lines in file order. */
  lxc: RawLxcLine[];
}

export function parseGuestConfig(text: string): GuestConfig {
  const values: Record<string, string> = {};
  const lxc: RawLxcLine[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) continue;
    const idx = line.indexOf(':');
    if (idx <= 0) continue;
    const key = line.slice(0, idx).trim();
    const value = line.slice(idx + 1).trim();
    if (key.startsWith('lxc.')) lxc.push({ key, value });
    else values[key] = key === 'description' ? decodePveEscapes(value) : value;
  }
  return { values, lxc };
}

/** Undoes the `%XX` escaping PVE applies to descriptions when printing a config. */
export function decodePveEscapes(value: string): string {
  return value.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * A property string as an ordered map. `defaultKey` names the key of a leading bare value
 * (`volume` in `local-zfs:subvol-100-disk-0,size=8G`, `path` in `dev0: /dev/nvidia0,gid=44`).
 * QEMU NICs print `virtio=BC:24:11:..` (model=MAC); that stays an ordinary pair.
 */
export function parsePropertyString(value: string, defaultKey?: string): Map<string, string> {
  const out = new Map<string, string>();
  if (value.trim() === '') return out;
  for (const part of value.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (defaultKey !== undefined && !out.has(defaultKey)) out.set(defaultKey, part);
      else out.set(part, '1');
      continue;
    }
    out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

/** Builds a property string; `defaultKey`'s value comes first without its key. */
export function formatPropertyString(entries: Iterable<[string, string]>, defaultKey?: string): string {
  const list = [...entries];
  const parts: string[] = [];
  const head = defaultKey === undefined ? undefined : list.find(([k]) => k === defaultKey);
  if (head) parts.push(head[1]);
  for (const [k, v] of list) if (k !== defaultKey) parts.push(`${k}=${v}`);
  return parts.join(',');
}

/** PVE disk sizes (`size=8G`, `512M`, `1T`, bare bytes) in bytes. */
export function parseDiskSize(size: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/i.exec(size.trim());
  if (!m || m[1] === undefined) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toUpperCase();
  const mult = unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : unit === 'T' ? 1024 ** 4 : 1;
  return Math.round(n * mult);
}

/** PVE booleans as printed (1/0, yes/no, true/false, on/off). */
export function parsePveBool(value: string | undefined): boolean {
  if (value === undefined) return false;
  return /^(1|yes|true|on)$/i.test(value.trim());
}
