/** Parsers for the table outputs of pct, qm, pvesm and pveam (formats in docs/reference/proxmox-cli.md). */

export interface PctListEntry {
  vmid: number;
  status: string;
  lock: string;
  name: string;
}

/**
 * `pct list`: header `VMID Status Lock Name`, fixed-width columns padded with spaces (trailing
 * spaces included). Names never contain whitespace, so a row has 3 tokens, or 4 with a lock.
 * No containers: no output at all.
 */
export function parsePctList(text: string): PctListEntry[] {
  const out: PctListEntry[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim().split(/\s+/);
    if (t.length < 3 || !/^\d+$/.test(t[0] ?? '')) continue;
    const [vmid, status, a, b] = t;
    out.push({ vmid: Number(vmid), status: status ?? '', lock: t.length >= 4 ? (a ?? '') : '', name: (t.length >= 4 ? b : a) ?? '' });
  }
  return out;
}

export interface QmListEntry {
  vmid: number;
  name: string;
  status: string;
  memoryMib: number;
  bootDiskGib: number;
  pid: number;
}

/** `qm list`: `VMID NAME STATUS MEM(MB) BOOTDISK(GB) PID`. Names never contain whitespace. */
export function parseQmList(text: string): QmListEntry[] {
  const out: QmListEntry[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim().split(/\s+/);
    if (t.length < 6 || !/^\d+$/.test(t[0] ?? '')) continue;
    out.push({
      vmid: Number(t[0]),
      name: t[1] ?? '',
      status: t[2] ?? '',
      memoryMib: Number(t[3]),
      bootDiskGib: Number(t[4]),
      pid: Number(t[5]),
    });
  }
  return out;
}

export interface SnapshotEntry {
  name: string;
  /** Parent snapshot name, undefined for a root. */
  parent: string | undefined;
  /** `YYYY-MM-DD HH:MM:SS` in node-local time, as printed. */
  time: string | undefined;
  /** First line of the description; `no-description` when empty. */
  description: string;
}

/**
 * `pct listsnapshot` / `qm listsnapshot`: a tree, one snapshot per line, prefix "`->" indented by
 * one space per level. The pseudo entry `current` ("You are here!") is left out.
 */
export function parseSnapshotTree(text: string): SnapshotEntry[] {
  const out: SnapshotEntry[] = [];
  const stack: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\s*)`-> (\S+)\s*(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})?\s*(.*)$/.exec(line);
    if (!m || m[2] === undefined) continue;
    const depth = (m[1] ?? '').length;
    stack.length = depth;
    const parent = depth > 0 ? stack[depth - 1] : undefined;
    stack[depth] = m[2];
    if (m[2] === 'current') continue;
    out.push({ name: m[2], parent, time: m[3], description: (m[4] ?? '').trimEnd() });
  }
  return out;
}

export interface StorageStatus {
  id: string;
  type: string;
  /** active, inactive or disabled. */
  status: string;
  totalBytes: number;
  usedBytes: number;
  availableBytes: number;
  /** Percent used; undefined when PVE prints N/A. */
  usedPercent: number | undefined;
}

/** `pvesm status`: `Name Type Status Total Used Available %` (sizes in KiB). */
export function parsePvesmStatus(text: string): StorageStatus[] {
  const out: StorageStatus[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim().split(/\s+/);
    if (t.length < 7 || t[0] === 'Name') continue;
    const [id, type, status, total, used, avail, pct] = t;
    if (!/^\d+$/.test(total ?? '')) continue;
    const percent = (pct ?? '').replace(/%$/, '');
    out.push({
      id: id ?? '',
      type: type ?? '',
      status: status ?? '',
      totalBytes: Number(total) * 1024,
      usedBytes: Number(used) * 1024,
      availableBytes: Number(avail) * 1024,
      usedPercent: /^\d+(\.\d+)?$/.test(percent) ? Number(percent) : undefined,
    });
  }
  return out;
}

export interface TemplateFile {
  /** Volume id, e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst. */
  volid: string;
  sizeMib: number;
}

/** `pveam list <storage>`: header `NAME SIZE`, rows `<volid> <N.NN>MB`. */
export function parsePveamList(text: string): TemplateFile[] {
  const out: TemplateFile[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+:\S+)\s+([\d.]+)MB\s*$/.exec(line.trim());
    if (m && m[1] && m[2]) out.push({ volid: m[1], sizeMib: Number(m[2]) });
  }
  return out;
}

export interface AvailableTemplate {
  section: string;
  template: string;
  /** Since pve-manager 9.2.8 a third column; undefined before. */
  arch: string | undefined;
}

/** `pveam available`: `<section padded to 15> <template>[ padded to 60 <arch>]`. */
export function parsePveamAvailable(text: string): AvailableTemplate[] {
  const out: AvailableTemplate[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim().split(/\s+/);
    if (t.length < 2 || t[0] === undefined || t[1] === undefined) continue;
    out.push({ section: t[0], template: t[1], arch: t[2] });
  }
  return out;
}
