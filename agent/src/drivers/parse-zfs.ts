/** Parsers for `zfs list -Hp` and `zpool list -Hp` (tab-separated, exact byte values). */

export interface ZfsDataset {
  name: string;
  usedBytes: number;
  availableBytes: number;
  referencedBytes: number;
  /** `-` for zvols and snapshots, `none`/`legacy` when so set. */
  mountpoint: string;
  /** filesystem, volume or snapshot. */
  type: string;
}

/** The columns Phoenix asks for, in this order. */
export const ZFS_LIST_COLUMNS = ['name', 'used', 'avail', 'refer', 'mountpoint', 'type'] as const;

export function parseZfsList(text: string): ZfsDataset[] {
  const out: ZfsDataset[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.split('\t');
    if (f.length < 6) continue;
    out.push({
      name: f[0] ?? '',
      usedBytes: num(f[1]),
      availableBytes: num(f[2]),
      referencedBytes: num(f[3]),
      mountpoint: f[4] ?? '-',
      type: f[5] ?? '',
    });
  }
  return out;
}

/** `zfs get -Hp -o name,property,value,source <props> <dataset>`. */
export function parseZfsGet(text: string): Map<string, Map<string, { value: string; source: string }>> {
  const out = new Map<string, Map<string, { value: string; source: string }>>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [name, property, value, source] = line.split('\t');
    if (name === undefined || property === undefined) continue;
    let props = out.get(name);
    if (!props) out.set(name, (props = new Map()));
    props.set(property, { value: value ?? '', source: source ?? '' });
  }
  return out;
}

export interface ZpoolInfo {
  name: string;
  sizeBytes: number;
  allocatedBytes: number;
  freeBytes: number;
  /** Percent; undefined when zpool prints `-`. */
  fragmentationPercent: number | undefined;
  capacityPercent: number;
  dedupRatio: number;
  health: string;
}

export const ZPOOL_LIST_COLUMNS = ['name', 'size', 'alloc', 'free', 'frag', 'cap', 'dedup', 'health'] as const;

export function parseZpoolList(text: string): ZpoolInfo[] {
  const out: ZpoolInfo[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.split('\t');
    if (f.length < 8) continue;
    out.push({
      name: f[0] ?? '',
      sizeBytes: num(f[1]),
      allocatedBytes: num(f[2]),
      freeBytes: num(f[3]),
      fragmentationPercent: f[4] === '-' ? undefined : num(f[4]),
      capacityPercent: num(f[5]),
      dedupRatio: Number((f[6] ?? '1').replace(/x$/, '')),
      health: f[7] ?? '',
    });
  }
  return out;
}

function num(v: string | undefined): number {
  if (v === undefined || v === '-' || v === '') return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}
