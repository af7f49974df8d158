import crypto from 'node:crypto';
import { readJson, writeJson } from '../core/atomic-file.js';
import type { State, StorageConfig } from '../core/state.js';

/**
 * The emulated ZFS pools and datasets, shared by the `zfs`/`zpool` commands and the zfspool
 * storage plugin. Kept in `$PVE_EMU_STATE/zfs.json`; callers hold the state lock while changing it.
 */

export const DEFAULT_POOL_BYTES = 512 * 1024 ** 3;

export interface InitPool {
  name: string;
  sizeBytes?: number;
  /** Datasets to create below the pool, e.g. ["quickOS/lxc-disks"]. */
  datasets?: string[];
}

export type DatasetType = 'filesystem' | 'volume' | 'snapshot';

export interface ZDataset {
  type: DatasetType;
  creation: number;
  createtxg: number;
  guid: string;
  /** Bytes of data this dataset references. */
  referenced: number;
  /** Properties set locally (`zfs set`, `-o`, `-V`). */
  props: Record<string, string>;
  origin?: string;
}

export interface ZPool {
  size: number;
  health: string;
  vdevs: string[];
  createtxg: number;
  guid: string;
}

export interface ZfsState {
  txg: number;
  pools: Record<string, ZPool>;
  datasets: Record<string, ZDataset>;
}

/** Error text exactly as the zfs/zpool tools print it; exit code 1 unless stated. */
export class ZfsError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'ZfsError';
    this.exitCode = exitCode;
  }
}

export function loadZfs(state: State): ZfsState {
  return readJson<ZfsState>(state.zfsFile, { txg: 1, pools: {}, datasets: {} });
}

export function saveZfs(state: State, z: ZfsState): void {
  writeJson(state.zfsFile, z);
}

/** Runs `fn` on the ZFS state under the state lock and saves it afterwards. */
export async function withZfs<T>(state: State, fn: (z: ZfsState) => T | Promise<T>): Promise<T> {
  return state.withStateLock(async () => {
    const z = loadZfs(state);
    const res = await fn(z);
    saveZfs(state, z);
    return res;
  });
}

const guid = (): string => BigInt(`0x${crypto.randomBytes(8).toString('hex')}`).toString();

export function parseZfsSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([BKMGTPE]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) return undefined;
  const exp = ' KMGTPE'.indexOf((m[2] || ' ').toUpperCase());
  return Math.round(Number(m[1]) * 1024 ** Math.max(exp, 0));
}

/** zfs_nicebytes(): "0B", "96K", "1.50G", "24.0K". */
export function niceBytes(num: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P', 'E'];
  let index = 0;
  let n = Math.floor(num);
  while (n >= 1024 && index < 6) {
    n = Math.floor(n / 1024);
    index++;
  }
  const u = units[index] ?? 'E';
  if (index === 0) return `${n}${u}`;
  const div = 1024 ** index;
  if (num % div === 0) return `${n}${u}`;
  const val = num / div;
  for (let i = 2; i >= 0; i--) {
    const s = `${val.toFixed(i)}${u}`;
    if (s.length <= 5) return s;
  }
  return `${Math.round(val)}${u}`;
}

export function poolOf(name: string): string {
  return name.split(/[/@]/)[0] ?? name;
}

export function parentOf(name: string): string | undefined {
  const at = name.indexOf('@');
  if (at >= 0) return name.slice(0, at);
  const slash = name.lastIndexOf('/');
  return slash >= 0 ? name.slice(0, slash) : undefined;
}

export function childrenOf(z: ZfsState, name: string, withSnapshots = true): string[] {
  return Object.keys(z.datasets).filter((n) => {
    if (!withSnapshots && n.includes('@')) return false;
    return parentOf(n) === name;
  });
}

export function descendantsOf(z: ZfsState, name: string): string[] {
  return Object.keys(z.datasets).filter((n) => n !== name && (n.startsWith(`${name}/`) || n.startsWith(`${name}@`)));
}

export function snapshotsOf(z: ZfsState, name: string): string[] {
  return Object.keys(z.datasets)
    .filter((n) => n.startsWith(`${name}@`))
    .sort((a, b) => (z.datasets[a]?.createtxg ?? 0) - (z.datasets[b]?.createtxg ?? 0));
}

export function clonesOf(z: ZfsState, snap: string): string[] {
  return Object.keys(z.datasets).filter((n) => z.datasets[n]?.origin === snap);
}

function nextTxg(z: ZfsState): number {
  z.txg += 1;
  return z.txg;
}

export interface CreateOptions {
  volsize?: number;
  sparse?: boolean;
  props?: Record<string, string>;
  createParents?: boolean;
  referenced?: number;
  origin?: string;
}

export function createDataset(z: ZfsState, name: string, opts: CreateOptions = {}): ZDataset {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:\-/]*$/.test(name) || name.endsWith('/') || name.includes('//')) {
    throw new ZfsError(`cannot create '${name}': invalid character in name`);
  }
  const pool = poolOf(name);
  if (!z.pools[pool]) throw new ZfsError(`cannot create '${name}': no such pool '${pool}'`);
  if (z.datasets[name]) throw new ZfsError(`cannot create '${name}': dataset already exists`);
  const parent = parentOf(name);
  if (parent && !z.datasets[parent]) {
    if (!opts.createParents) throw new ZfsError(`cannot create '${name}': parent does not exist`);
    createDataset(z, parent, { createParents: true });
  }
  if (parent && z.datasets[parent]?.type === 'volume') {
    throw new ZfsError(`cannot create '${name}': parent is not a filesystem`);
  }
  const props: Record<string, string> = { ...(opts.props ?? {}) };
  const isVol = opts.volsize !== undefined;
  if (isVol) {
    props['volsize'] = String(opts.volsize);
    props['volblocksize'] ??= '16384';
    if (!opts.sparse) props['refreservation'] ??= String(opts.volsize);
  }
  const ds: ZDataset = {
    type: isVol ? 'volume' : 'filesystem',
    creation: Math.floor(Date.now() / 1000),
    createtxg: nextTxg(z),
    guid: guid(),
    referenced: opts.referenced ?? (isVol ? 56 * 1024 : 96 * 1024),
    props,
  };
  if (opts.origin) ds.origin = opts.origin;
  z.datasets[name] = ds;
  return ds;
}

export function snapshotDataset(z: ZfsState, name: string, snap: string, recursive = false): void {
  const ds = z.datasets[name];
  if (!ds || ds.type === 'snapshot') throw new ZfsError(`cannot open '${name}': dataset does not exist`);
  const full = `${name}@${snap}`;
  if (z.datasets[full]) throw new ZfsError(`cannot create snapshot '${full}': dataset already exists`);
  z.datasets[full] = {
    type: 'snapshot',
    creation: Math.floor(Date.now() / 1000),
    createtxg: nextTxg(z),
    guid: guid(),
    referenced: ds.referenced,
    props: {},
  };
  if (recursive) {
    for (const child of childrenOf(z, name, false)) snapshotDataset(z, child, snap, true);
  }
}

export function cloneSnapshot(z: ZfsState, snap: string, target: string, props: Record<string, string> = {}): void {
  const s = z.datasets[snap];
  if (!snap.includes('@')) throw new ZfsError(`cannot open '${snap}': operation only applies to snapshots`);
  if (!s) throw new ZfsError(`cannot open '${snap}': dataset does not exist`);
  const origin = z.datasets[snap.slice(0, snap.indexOf('@'))];
  const opts: CreateOptions = { props: { ...props }, referenced: s.referenced, origin: snap };
  if (origin?.type === 'volume') {
    opts.volsize = Number(origin.props['volsize'] ?? 0);
    opts.sparse = true;
  }
  createDataset(z, target, opts);
}

export interface DestroyOptions {
  recursive?: boolean;
  recursiveClones?: boolean;
}

export function destroyDataset(z: ZfsState, name: string, opts: DestroyOptions = {}): string[] {
  const ds = z.datasets[name];
  if (!ds) {
    if (name.includes('@')) throw new ZfsError(`could not find any snapshots to destroy; check snapshot names.`);
    throw new ZfsError(`cannot open '${name}': dataset does not exist`);
  }
  const kind = ds.type === 'snapshot' ? 'snapshot' : ds.type === 'volume' ? 'volume' : 'filesystem';
  const dependents = ds.type === 'snapshot' ? clonesOf(z, name) : [];
  const descendants = ds.type === 'snapshot' ? [] : descendantsOf(z, name);
  if (dependents.length && !opts.recursiveClones) {
    throw new ZfsError(
      `cannot destroy '${name}': snapshot has dependent clones\nuse '-R' to destroy the following datasets:\n${dependents.join('\n')}`,
    );
  }
  if (descendants.length && !opts.recursive && !opts.recursiveClones) {
    const what = descendants.some((d) => !d.includes('@')) ? 'has children' : 'has children';
    throw new ZfsError(`cannot destroy '${name}': ${kind} ${what}\nuse '-r' to destroy the following datasets:\n${descendants.join('\n')}`);
  }
  const clonesOfDescendants = descendants.flatMap((d) => clonesOf(z, d)).filter((c) => !descendants.includes(c));
  if (clonesOfDescendants.length && !opts.recursiveClones) {
    throw new ZfsError(
      `cannot destroy '${name}': ${kind} has dependent clones\nuse '-R' to destroy the following datasets:\n${clonesOfDescendants.join('\n')}`,
    );
  }
  const removed: string[] = [];
  for (const c of [...dependents, ...clonesOfDescendants]) {
    if (z.datasets[c]) removed.push(...destroyDataset(z, c, { recursive: true, recursiveClones: true }));
  }
  for (const d of descendants.sort((a, b) => b.length - a.length)) {
    if (z.datasets[d]) {
      delete z.datasets[d];
      removed.push(d);
    }
  }
  delete z.datasets[name];
  removed.push(name);
  return removed;
}

export function rollbackDataset(z: ZfsState, snap: string, destroyNewer = false): void {
  const s = z.datasets[snap];
  if (!s || s.type !== 'snapshot') throw new ZfsError(`cannot open '${snap}': dataset does not exist`);
  const fsName = snap.slice(0, snap.indexOf('@'));
  const newer = snapshotsOf(z, fsName).filter((n) => (z.datasets[n]?.createtxg ?? 0) > s.createtxg);
  if (newer.length && !destroyNewer) {
    throw new ZfsError(
      `cannot rollback to '${snap}': more recent snapshots or bookmarks exist\nuse '-r' to force deletion of the following snapshots and bookmarks:\n${newer.join('\n')}`,
    );
  }
  for (const n of newer) destroyDataset(z, n, { recursiveClones: false });
  const ds = z.datasets[fsName];
  if (ds) ds.referenced = s.referenced;
}

export function renameDataset(z: ZfsState, from: string, to: string): void {
  if (!z.datasets[from]) throw new ZfsError(`cannot open '${from}': dataset does not exist`);
  if (z.datasets[to]) throw new ZfsError(`cannot rename to '${to}': dataset already exists`);
  for (const name of Object.keys(z.datasets)) {
    if (name === from || name.startsWith(`${from}/`) || name.startsWith(`${from}@`)) {
      const ds = z.datasets[name];
      if (!ds) continue;
      delete z.datasets[name];
      z.datasets[to + name.slice(from.length)] = ds;
    }
  }
  for (const ds of Object.values(z.datasets)) {
    if (ds.origin && (ds.origin.startsWith(`${from}@`) || ds.origin.startsWith(`${from}/`))) {
      ds.origin = to + ds.origin.slice(from.length);
    }
  }
}

/** Space used by a dataset including its children, snapshots and reservations. */
export function usedBytes(z: ZfsState, name: string): number {
  const ds = z.datasets[name];
  if (!ds) return 0;
  if (ds.type === 'snapshot') return 0;
  let used = ds.origin ? Math.floor(ds.referenced / 16) : ds.referenced;
  const refres = Number(ds.props['refreservation'] ?? 0);
  if (refres > used) used = refres;
  for (const child of childrenOf(z, name)) used += usedBytes(z, child);
  return used;
}

export function poolAllocated(z: ZfsState, pool: string): number {
  let sum = 0;
  for (const [name, ds] of Object.entries(z.datasets)) {
    if (poolOf(name) !== pool || ds.type === 'snapshot') continue;
    sum += ds.origin ? Math.floor(ds.referenced / 16) : ds.referenced;
  }
  return sum;
}

export function availableBytes(z: ZfsState, name: string): number {
  const pool = z.pools[poolOf(name)];
  if (!pool) return 0;
  const poolAvail = Math.max(0, Math.floor(pool.size * 0.96) - usedBytes(z, poolOf(name)));
  const ds = z.datasets[name];
  if (ds?.type === 'filesystem') {
    const refquota = Number(ds.props['refquota'] ?? 0);
    if (refquota > 0) return Math.max(0, Math.min(poolAvail, refquota - ds.referenced));
  }
  return poolAvail;
}

export function mountpointOf(z: ZfsState, name: string): string {
  const ds = z.datasets[name];
  if (!ds) return '-';
  if (ds.type !== 'filesystem') return '-';
  if (ds.props['mountpoint'] !== undefined) return ds.props['mountpoint'];
  const parent = parentOf(name);
  if (!parent) return `/${name}`;
  const pm = mountpointOf(z, parent);
  if (pm === 'none' || pm === 'legacy') return pm;
  return `${pm === '/' ? '' : pm}/${name.slice(parent.length + 1)}`;
}

export function createPool(z: ZfsState, name: string, vdevs: string[], sizeBytes: number, mountpoint?: string): void {
  z.pools[name] = { size: sizeBytes, health: 'ONLINE', vdevs, createtxg: nextTxg(z), guid: guid() };
  createDataset(z, name, mountpoint ? { props: { mountpoint } } : {});
}

/** Initial pools: rpool with PVE's layout, plus any pools that zfspool storages refer to. */
export function initZfs(state: State, cfg: StorageConfig, pools: InitPool[]): void {
  const z: ZfsState = { txg: 1, pools: {}, datasets: {} };
  createPool(z, 'rpool', ['nvme0n1p3'], DEFAULT_POOL_BYTES);
  createDataset(z, 'rpool/ROOT', { props: { mountpoint: 'none' } });
  createDataset(z, 'rpool/ROOT/pve-1', { props: { mountpoint: '/' }, referenced: 3 * 1024 ** 3 });
  createDataset(z, 'rpool/data');
  createDataset(z, 'rpool/var-lib-vz', { props: { mountpoint: '/var/lib/vz' } });
  for (const p of pools) {
    if (!z.pools[p.name]) createPool(z, p.name, ['sdb'], p.sizeBytes ?? DEFAULT_POOL_BYTES);
    for (const d of p.datasets ?? []) if (!z.datasets[d]) createDataset(z, d, { createParents: true });
  }
  for (const id of cfg.ids) {
    const s = cfg.storages[id];
    const poolDs = s?.props['pool'];
    if (s?.type !== 'zfspool' || typeof poolDs !== 'string') continue;
    const pool = poolOf(poolDs);
    if (!z.pools[pool]) createPool(z, pool, ['sdb'], DEFAULT_POOL_BYTES);
    if (!z.datasets[poolDs]) createDataset(z, poolDs, { createParents: true });
  }
  saveZfs(state, z);
}
