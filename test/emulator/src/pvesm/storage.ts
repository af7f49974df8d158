import fs from 'node:fs';
import path from 'node:path';
import { readJson, writeJson } from '../core/atomic-file.js';
import { die } from '../core/errors.js';
import { formatSize } from '../core/formats.js';
import { DEFAULT_DIR_BYTES, type State, type StorageDef } from '../core/state.js';
import {
  availableBytes,
  cloneSnapshot,
  createDataset,
  destroyDataset,
  loadZfs,
  renameDataset,
  rollbackDataset,
  snapshotDataset,
  snapshotsOf,
  clonesOf,
  usedBytes,
  withZfs,
  ZfsError,
  type ZfsState,
} from '../zfs/model.js';

/**
 * The emulated PVE storage layer (PVE::Storage and its plugins) for dir/nfs/cifs, zfspool,
 * lvmthin and lvm storages. ZFS volumes live in the emulated pool; other disk images are
 * recorded in `volumes.json`; templates, ISOs, snippets and backups are real files in the
 * storage directory.
 */

export interface VolRecord {
  size: number;
  format: string;
  vmid: number;
  /** Linked clones: the base volume's volname. */
  base?: string;
  snapshots: string[];
  createdAt: number;
}

type VolumeRegistry = Record<string, VolRecord>;

export interface Volname {
  vtype: string;
  name: string;
  vmid: number | undefined;
  baseName: string | undefined;
  baseVmid: number | undefined;
  isBase: boolean;
  format: string;
}

export type Feature = 'snapshot' | 'clone' | 'copy' | 'template';

const FILE_TYPES = new Set(['dir', 'nfs', 'cifs', 'cephfs', 'glusterfs', 'btrfs']);

export function isFileStorage(def: StorageDef): boolean {
  return FILE_TYPES.has(def.type);
}

export function storageConfig(state: State, storeid: string): StorageDef {
  const cfg = state.readStorageConfig();
  const def = cfg.storages[storeid];
  if (!def) die(`storage '${storeid}' does not exist`);
  return def;
}

/** PVE::Storage::storage_check_enabled. */
export function storageCheckEnabled(state: State, storeid: string): StorageDef {
  const def = storageConfig(state, storeid);
  if (def.props['disable']) die(`storage '${storeid}' is disabled`);
  const nodes = def.props['nodes'];
  if (typeof nodes === 'string' && nodes && !nodes.split(/[,;\s]+/).includes(state.node)) {
    die(`storage '${storeid}' is not available on node '${state.node}'`);
  }
  return def;
}

export function storagePath(def: StorageDef): string | undefined {
  const p = def.props['path'];
  return typeof p === 'string' ? p : undefined;
}

function zfsDataset(def: StorageDef, volname: string): string {
  return `${String(def.props['pool'])}/${volname.includes('/') ? volname.slice(volname.indexOf('/') + 1) : volname}`;
}

export function parseVolname(def: StorageDef, volname: string): Volname {
  let m: RegExpExecArray | null;
  if (def.type === 'zfspool') {
    m = /^(((base|basevol)-(\d+)-\S+)\/)?((base|basevol|vm|subvol)-(\d+)-\S+)$/.exec(volname);
    if (!m) die(`unable to parse zfs volume name '${volname}'`);
    const kind = m[6] ?? '';
    return {
      vtype: 'images',
      name: m[5] ?? '',
      vmid: Number(m[7]),
      baseName: m[2],
      baseVmid: m[4] === undefined ? undefined : Number(m[4]),
      isBase: kind === 'base' || kind === 'basevol',
      format: kind === 'subvol' || kind === 'basevol' ? 'subvol' : 'raw',
    };
  }
  if (def.type === 'lvmthin' || def.type === 'lvm') {
    m = /^((vm|base)-(\d+)-\S+)$/.exec(volname);
    if (!m) die(`unable to parse lvm volume name '${volname}'`);
    return { vtype: 'images', name: volname, vmid: Number(m[3]), baseName: undefined, baseVmid: undefined, isBase: m[2] === 'base', format: 'raw' };
  }
  if ((m = /^(\d+)\/(\S+)\/(\d+)\/(\S+)$/.exec(volname))) {
    const fmt = /\.(raw|qcow2|vmdk)$/.exec(m[4] ?? '')?.[1] ?? 'raw';
    return { vtype: 'images', name: m[4] ?? '', vmid: Number(m[3]), baseName: m[2], baseVmid: Number(m[1]), isBase: false, format: fmt };
  }
  if ((m = /^(\d+)\/(\S+)$/.exec(volname))) {
    const name = m[2] ?? '';
    const fmt = /\.(raw|qcow2|vmdk)$/.exec(name)?.[1] ?? (name.startsWith('subvol-') || name.startsWith('basevol-') ? 'subvol' : 'raw');
    return { vtype: 'images', name, vmid: Number(m[1]), baseName: undefined, baseVmid: undefined, isBase: /^base(vol)?-/.test(name), format: fmt };
  }
  if ((m = /^(iso|vztmpl|snippets|backup|import)\/(.+)$/.exec(volname))) {
    const vmidM = m[1] === 'backup' ? /^vzdump-(?:lxc|qemu|openvz)-(\d+)-/.exec(m[2] ?? '') : null;
    return { vtype: m[1] ?? '', name: m[2] ?? '', vmid: vmidM ? Number(vmidM[1]) : undefined, baseName: undefined, baseVmid: undefined, isBase: false, format: '' };
  }
  return die(`unable to parse directory volume name '${volname}'`);
}

const CONTENT_SUBDIR: Record<string, string> = {
  images: 'images',
  rootdir: 'private',
  vztmpl: 'template/cache',
  iso: 'template/iso',
  backup: 'dump',
  snippets: 'snippets',
  import: 'import',
};

/** Filesystem path of a file-backed volume (templates, ISOs, snippets, backups). */
export function volumeFilePath(def: StorageDef, volname: string): string | undefined {
  const base = storagePath(def);
  if (!base) return undefined;
  const m = /^(iso|vztmpl|snippets|backup|import)\/(.+)$/.exec(volname);
  if (m) return path.join(base, CONTENT_SUBDIR[m[1] ?? ''] ?? '', m[2] ?? '');
  return path.join(base, 'images', volname);
}

/** PVE::Storage::path for any volume id (used by `pvesm path`). */
export function volumePath(state: State, volid: string): string {
  const [storeid, volname] = splitVolid(volid);
  const def = storageConfig(state, storeid);
  if (def.type === 'zfspool') {
    const v = parseVolname(def, volname);
    const ds = zfsDataset(def, volname);
    return v.format === 'subvol' ? `/${ds}` : `/dev/zvol/${ds}`;
  }
  if (def.type === 'lvmthin' || def.type === 'lvm') return `/dev/${String(def.props['vgname'] ?? 'pve')}/${volname}`;
  return volumeFilePath(def, volname) ?? die(`storage '${storeid}' has no path`);
}

export function splitVolid(volid: string): [string, string] {
  const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/is.exec(volid);
  if (!m) die(`unable to parse volume ID '${volid}'`);
  return [m[1] ?? '', m[2] ?? ''];
}

function loadRegistry(state: State): VolumeRegistry {
  return readJson<VolumeRegistry>(state.volumesFile, {});
}

async function withRegistry<T>(state: State, fn: (r: VolumeRegistry) => T): Promise<T> {
  return state.withStateLock(() => {
    const r = loadRegistry(state);
    const res = fn(r);
    writeJson(state.volumesFile, r);
    return res;
  });
}

function zfsDie(err: unknown): never {
  if (err instanceof ZfsError) die(`zfs error: ${err.message}`);
  throw err;
}

/** Volume names of one VMID that already exist on a storage (for find_free_diskname). */
function existingNames(state: State, storeid: string, def: StorageDef, z: ZfsState | undefined, reg: VolumeRegistry): string[] {
  if (def.type === 'zfspool' && z) {
    const prefix = `${String(def.props['pool'])}/`;
    return Object.keys(z.datasets)
      .filter((n) => n.startsWith(prefix) && !n.includes('@'))
      .map((n) => n.slice(prefix.length));
  }
  return Object.keys(reg)
    .filter((k) => k.startsWith(`${storeid}:`))
    .map((k) => k.slice(storeid.length + 1).replace(/^.*\//, ''));
}

function nextDiskName(names: string[], vmid: number, fmt: string, suffix: string): string {
  const taken = new Set<number>();
  for (const n of names) {
    const m = new RegExp(`^(?:vm|base|subvol|basevol)-${vmid}-disk-(\\d+)`).exec(n);
    if (m) taken.add(Number(m[1]));
  }
  const prefix = fmt === 'subvol' ? 'subvol' : 'vm';
  for (let i = 0; i < 512; i++) if (!taken.has(i)) return `${prefix}-${vmid}-disk-${i}${suffix}`;
  return die(`unable to allocate an image name for VM ${vmid} in storage`);
}

export interface AllocResult {
  volid: string;
  /** Output lines the storage tools would print. */
  output: string[];
}

/** PVE::Storage::vdisk_alloc. `sizeKiB` 0 with fmt subvol gives a subvolume without quota. */
export async function vdiskAlloc(
  state: State,
  storeid: string,
  vmid: number,
  fmt: string,
  name: string | undefined,
  sizeKiB: number,
): Promise<AllocResult> {
  const def = storageCheckEnabled(state, storeid);
  const output: string[] = [];
  if (def.type === 'zfspool') {
    const volname = await withZfs(state, (z) => {
      const n = name ?? nextDiskName(existingNames(state, storeid, def, z, {}), vmid, fmt, '');
      const ds = `${String(def.props['pool'])}/${n}`;
      try {
        if (fmt === 'subvol') {
          createDataset(z, ds, { props: { acltype: 'posixacl', xattr: 'sa', refquota: sizeKiB ? String(sizeKiB * 1024) : 'none' } });
        } else {
          createDataset(z, ds, { volsize: sizeKiB * 1024, sparse: Boolean(def.props['sparse']) });
        }
      } catch (err) {
        zfsDie(err);
      }
      return n;
    });
    return { volid: `${storeid}:${volname}`, output };
  }
  const volname = await withRegistry(state, (reg) => {
    if (def.type === 'lvmthin' || def.type === 'lvm') {
      const n = name ?? nextDiskName(existingNames(state, storeid, def, undefined, reg), vmid, 'raw', '');
      if (reg[`${storeid}:${n}`]) die(`lvcreate '${String(def.props['vgname'] ?? 'pve')}/${n}' error:   Logical Volume "${n}" already exists in volume group`);
      reg[`${storeid}:${n}`] = { size: sizeKiB * 1024, format: 'raw', vmid, snapshots: [], createdAt: Date.now() };
      output.push(`  Logical volume "${n}" created.`);
      return n;
    }
    const suffix = fmt === 'subvol' ? '' : `.${fmt}`;
    const n = name ?? nextDiskName(existingNames(state, storeid, def, undefined, reg), vmid, fmt, suffix);
    const volname = `${vmid}/${n}`;
    reg[`${storeid}:${volname}`] = { size: sizeKiB * 1024, format: fmt, vmid, snapshots: [], createdAt: Date.now() };
    if (fmt !== 'subvol') {
      output.push(`Formatting '${path.join(storagePath(def) ?? '', 'images', volname)}', fmt=${fmt} size=${sizeKiB * 1024}`);
    }
    return volname;
  });
  return { volid: `${storeid}:${volname}`, output };
}

/** True when some linked clone still uses this base volume. */
function baseInUse(state: State, def: StorageDef, storeid: string, volname: string, z: ZfsState | undefined): boolean {
  if (def.type === 'zfspool' && z) {
    const snap = `${zfsDataset(def, volname)}@__base__`;
    return clonesOf(z, snap).length > 0;
  }
  const reg = loadRegistry(state);
  return Object.entries(reg).some(([k, r]) => k.startsWith(`${storeid}:`) && r.base === volname);
}

/** PVE::Storage::vdisk_free. */
export async function vdiskFree(state: State, volid: string): Promise<void> {
  const [storeid, volname] = splitVolid(volid);
  const def = storageConfig(state, storeid);
  const v = parseVolname(def, volname);
  if (def.type === 'zfspool') {
    await withZfs(state, (z) => {
      if (v.isBase && baseInUse(state, def, storeid, volname, z)) die(`base volume '${volname}' is still in use by linked clones`);
      const ds = zfsDataset(def, volname);
      if (!z.datasets[ds]) return;
      try {
        destroyDataset(z, ds, { recursive: true });
      } catch (err) {
        zfsDie(err);
      }
    });
    return;
  }
  if (v.vtype !== 'images') {
    const file = volumeFilePath(def, volname);
    if (file) fs.rmSync(file, { force: true });
    return;
  }
  await withRegistry(state, (reg) => {
    if (v.isBase && Object.entries(reg).some(([k, r]) => k.startsWith(`${storeid}:`) && r.base === volname)) {
      die(`base volume '${volname}' is still in use by linked clones`);
    }
    delete reg[volid];
  });
}

export function volumeSize(state: State, volid: string): number {
  const [storeid, volname] = splitVolid(volid);
  const def = storageConfig(state, storeid);
  if (def.type === 'zfspool') {
    const ds = loadZfs(state).datasets[zfsDataset(def, volname)];
    if (!ds) return 0;
    return Number(ds.props['volsize'] ?? (ds.props['refquota'] === 'none' ? 0 : (ds.props['refquota'] ?? 0)));
  }
  const rec = loadRegistry(state)[volid];
  if (rec) return rec.size;
  const file = volumeFilePath(def, volname);
  try {
    return file ? fs.statSync(file).size : 0;
  } catch {
    return 0;
  }
}

export function volumeExists(state: State, volid: string): boolean {
  const [storeid, volname] = splitVolid(volid);
  const def = state.readStorageConfig().storages[storeid];
  if (!def) return false;
  if (def.type === 'zfspool') return loadZfs(state).datasets[zfsDataset(def, volname)] !== undefined;
  const v = parseVolname(def, volname);
  if (v.vtype !== 'images') {
    const f = volumeFilePath(def, volname);
    return f !== undefined && fs.existsSync(f);
  }
  return loadRegistry(state)[volid] !== undefined;
}

/** PVE::Storage::Plugin::activate_volume: the volume must be there. */
export function activateVolume(state: State, volid: string): void {
  if (!volumeExists(state, volid)) die(`volume '${volid}' does not exist`);
}

/** PVE::Storage::volume_has_feature for the emulated storage types. */
export function volumeHasFeature(state: State, feature: Feature, volid: string, snapname?: string, validTargetFormats?: string[]): boolean {
  const [storeid, volname] = splitVolid(volid);
  const def = storageConfig(state, storeid);
  const v = parseVolname(def, volname);
  const key = snapname ? 'snap' : v.isBase ? 'base' : 'current';
  let table: Record<string, Record<string, boolean | string[]>>;
  if (def.type === 'zfspool') {
    table = { snapshot: { current: true, snap: true }, clone: { base: true }, template: { current: true }, copy: { base: true, current: true } };
  } else if (def.type === 'lvmthin') {
    table = { snapshot: { current: true }, clone: { base: true, snap: true }, template: { current: true }, copy: { base: true, current: true, snap: true } };
  } else if (def.type === 'lvm') {
    table = { copy: { base: true, current: true }, template: { current: true } };
  } else {
    table = {
      snapshot: { current: ['qcow2'], snap: ['qcow2'] },
      clone: { base: ['qcow2', 'raw', 'vmdk'] },
      template: { current: ['qcow2', 'raw', 'vmdk', 'subvol'] },
      copy: { base: ['qcow2', 'raw', 'vmdk'], current: ['qcow2', 'raw', 'vmdk'], snap: ['qcow2'] },
    };
    // A linked clone on a directory storage is a qcow2 overlay.
    if (feature === 'clone' && validTargetFormats && !validTargetFormats.includes('qcow2')) return false;
  }
  const entry = table[feature]?.[key];
  if (entry === undefined) return false;
  if (Array.isArray(entry)) return entry.includes(v.format);
  return entry;
}

export async function volumeSnapshot(state: State, volid: string, snap: string): Promise<void> {
  const [storeid, volname] = splitVolid(volid);
  const def = storageConfig(state, storeid);
  if (def.type === 'zfspool') {
    await withZfs(state, (z) => {
      try {
        snapshotDataset(z, zfsDataset(def, volname), snap);
      } catch (err) {
        zfsDie(err);
      }
    });
    return;
  }
  await withRegistry(state, (reg) => {
    const rec = reg[volid];
    if (!rec) die(`volume '${volid}' does not exist`);
    if (rec.snapshots.includes(snap)) die(`snapshot '${snap}' already exists`);
    rec.snapshots.push(snap);
  });
}

/** volume_rollback_is_possible: ZFS only rolls back to its most recent snapshot. */
export function volumeRollbackIsPossible(state: State, volid: string, snap: string): void {
  const [storeid, volname] = splitVolid(volid);
  const def = storageConfig(state, storeid);
  if (def.type === 'zfspool') {
    const z = loadZfs(state);
    const ds = zfsDataset(def, volname);
    const snaps = snapshotsOf(z, ds);
    const target = `${ds}@${snap}`;
    if (!snaps.includes(target)) die(`zfs error: could not find any snapshots to rollback to; '${target}' does not exist`);
    if (snaps[snaps.length - 1] !== target) die(`can't rollback, '${snap}' is not most recent snapshot on '${volid}'`);
    return;
  }
  if (def.type === 'lvmthin') return;
  const rec = loadRegistry(state)[volid];
  if (!rec?.snapshots.includes(snap)) die(`snapshot '${snap}' does not exist on '${volid}'`);
}

export async function volumeSnapshotRollback(state: State, volid: string, snap: string): Promise<void> {
  const [storeid, volname] = splitVolid(volid);
  const def = storageConfig(state, storeid);
  if (def.type === 'zfspool') {
    await withZfs(state, (z) => {
      try {
        rollbackDataset(z, `${zfsDataset(def, volname)}@${snap}`);
      } catch (err) {
        zfsDie(err);
      }
    });
  }
}

export async function volumeSnapshotDelete(state: State, volid: string, snap: string): Promise<void> {
  const [storeid, volname] = splitVolid(volid);
  const def = storageConfig(state, storeid);
  if (def.type === 'zfspool') {
    await withZfs(state, (z) => {
      const name = `${zfsDataset(def, volname)}@${snap}`;
      if (!z.datasets[name]) return;
      try {
        destroyDataset(z, name);
      } catch (err) {
        zfsDie(err);
      }
    });
    return;
  }
  await withRegistry(state, (reg) => {
    const rec = reg[volid];
    if (rec) rec.snapshots = rec.snapshots.filter((s) => s !== snap);
  });
}

/** vdisk_create_base: turns a volume into a base volume and returns its new volid. */
export async function vdiskCreateBase(state: State, volid: string): Promise<string> {
  const [storeid, volname] = splitVolid(volid);
  const def = storageConfig(state, storeid);
  const v = parseVolname(def, volname);
  if (v.isBase) return volid;
  const newname = v.name.replace(/^subvol-/, 'basevol-').replace(/^vm-/, 'base-');
  if (def.type === 'zfspool') {
    await withZfs(state, (z) => {
      const from = zfsDataset(def, volname);
      const to = `${String(def.props['pool'])}/${newname}`;
      try {
        renameDataset(z, from, to);
        snapshotDataset(z, to, '__base__');
      } catch (err) {
        zfsDie(err);
      }
    });
    return `${storeid}:${newname}`;
  }
  const newvolname = volname.replace(v.name, newname);
  await withRegistry(state, (reg) => {
    const rec = reg[volid];
    if (!rec) die(`volume '${volid}' does not exist`);
    delete reg[volid];
    reg[`${storeid}:${newvolname}`] = rec;
  });
  return `${storeid}:${newvolname}`;
}

/** vdisk_clone: a linked clone of a base volume (or an LVM-thin snapshot). */
export async function vdiskClone(state: State, volid: string, vmid: number, snap?: string): Promise<string> {
  const [storeid, volname] = splitVolid(volid);
  const def = storageConfig(state, storeid);
  const v = parseVolname(def, volname);
  if (def.type === 'zfspool') {
    if (snap) die('clone_image only works on base images');
    if (!v.isBase) die('clone_image only works on base images');
    const newname = await withZfs(state, (z) => {
      const n = nextDiskName(existingNames(state, storeid, def, z, {}), vmid, v.format, '');
      try {
        cloneSnapshot(z, `${zfsDataset(def, volname)}@__base__`, `${String(def.props['pool'])}/${n}`);
      } catch (err) {
        zfsDie(err);
      }
      return n;
    });
    return `${storeid}:${v.name}/${newname}`;
  }
  return withRegistry(state, (reg) => {
    const rec = reg[volid];
    if (!rec) die(`volume '${volid}' does not exist`);
    const n = nextDiskName(existingNames(state, storeid, def, undefined, reg), vmid, 'raw', def.type === 'lvmthin' ? '' : '.qcow2');
    const newvolname = def.type === 'lvmthin' ? n : `${v.vmid ?? 0}/${v.name}/${vmid}/${n}`;
    reg[`${storeid}:${newvolname}`] = { size: rec.size, format: def.type === 'lvmthin' ? 'raw' : 'qcow2', vmid, base: volname, snapshots: [], createdAt: Date.now() };
    return `${storeid}:${newvolname}`;
  });
}

/** A full copy of a volume (or of one of its snapshots) to a new volume of `vmid`. */
export async function vdiskCopy(state: State, volid: string, targetStoreid: string, vmid: number, fmt: string | undefined, name?: string): Promise<AllocResult> {
  const [storeid, volname] = splitVolid(volid);
  const def = storageConfig(state, storeid);
  const v = parseVolname(def, volname);
  const size = volumeSize(state, volid);
  const target = storageCheckEnabled(state, targetStoreid);
  let format = fmt ?? v.format;
  if (target.type === 'zfspool' || target.type === 'lvmthin' || target.type === 'lvm') format = v.format === 'subvol' ? 'subvol' : 'raw';
  else if (v.format === 'subvol' && size > 0) format = 'raw';
  const res = await vdiskAlloc(state, targetStoreid, vmid, format, name, Math.ceil(size / 1024));
  if (target.type === 'zfspool') {
    const referenced = def.type === 'zfspool' ? (loadZfs(state).datasets[zfsDataset(def, volname)]?.referenced ?? 0) : Math.min(size, 700 * 1024 ** 2);
    const [, newvolname] = splitVolid(res.volid);
    await withZfs(state, (z) => {
      const ds = z.datasets[zfsDataset(target, newvolname)];
      if (ds) ds.referenced = referenced;
    });
  }
  return res;
}

/** Resize a volume to `newSize` bytes. */
export async function volumeResize(state: State, volid: string, newSize: number): Promise<void> {
  const [storeid, volname] = splitVolid(volid);
  const def = storageConfig(state, storeid);
  if (def.type === 'zfspool') {
    await withZfs(state, (z) => {
      const ds = z.datasets[zfsDataset(def, volname)];
      if (!ds) die(`zfs error: cannot open '${zfsDataset(def, volname)}': dataset does not exist`);
      if (ds.type === 'volume') {
        ds.props['volsize'] = String(newSize);
        if (ds.props['refreservation'] !== undefined) ds.props['refreservation'] = String(newSize);
      } else ds.props['refquota'] = String(newSize);
    });
    return;
  }
  await withRegistry(state, (reg) => {
    const rec = reg[volid];
    if (rec) rec.size = newSize;
  });
}

/** Data bytes of a volume (used in CT status 'disk'). */
export function volumeUsed(state: State, volid: string): number {
  const [storeid, volname] = splitVolid(volid);
  const def = state.readStorageConfig().storages[storeid];
  if (!def) return 0;
  if (def.type === 'zfspool') return loadZfs(state).datasets[zfsDataset(def, volname)]?.referenced ?? 0;
  return Math.min(volumeSize(state, volid), 700 * 1024 ** 2);
}

/** Set how much data a volume holds (e.g. after extracting a template). */
export async function setVolumeUsed(state: State, volid: string, bytes: number): Promise<void> {
  const [storeid, volname] = splitVolid(volid);
  const def = storageConfig(state, storeid);
  if (def.type !== 'zfspool') return;
  await withZfs(state, (z) => {
    const ds = z.datasets[zfsDataset(def, volname)];
    if (ds) ds.referenced = bytes;
  });
}

export interface ContentEntry {
  volid: string;
  format: string;
  content: string;
  size: number;
  vmid?: number;
  ctime?: number;
  parent?: string;
  used?: number;
}

/** Contents of a storage (pvesm list / GET .../content). */
export function listContent(state: State, storeid: string): ContentEntry[] {
  const def = storageCheckEnabled(state, storeid);
  const out: ContentEntry[] = [];
  const content = new Set(def.content);
  if (def.type === 'zfspool') {
    const z = loadZfs(state);
    const prefix = `${String(def.props['pool'])}/`;
    for (const [name, ds] of Object.entries(z.datasets)) {
      if (!name.startsWith(prefix) || name.includes('@') || name.slice(prefix.length).includes('/')) continue;
      const volname0 = name.slice(prefix.length);
      const m = /^(vm|base|subvol|basevol)-(\d+)-/.exec(volname0);
      if (!m) continue;
      const isCt = m[1] === 'subvol' || m[1] === 'basevol';
      if (!content.has(isCt ? 'rootdir' : 'images')) continue;
      const base = ds.origin ? ds.origin.slice(prefix.length).replace(/@__base__$/, '') : undefined;
      const volname = base ? `${base}/${volname0}` : volname0;
      const e: ContentEntry = {
        volid: `${storeid}:${volname}`,
        format: isCt ? 'subvol' : 'raw',
        content: isCt ? 'rootdir' : 'images',
        size: Number(ds.props['volsize'] ?? (ds.props['refquota'] === 'none' ? 0 : (ds.props['refquota'] ?? 0))),
        vmid: Number(m[2]),
        ctime: ds.creation,
        used: usedBytes(z, name),
      };
      if (base) e.parent = `${base}@__base__`;
      out.push(e);
    }
  } else {
    for (const [volid, rec] of Object.entries(loadRegistry(state))) {
      if (!volid.startsWith(`${storeid}:`)) continue;
      const isCt = rec.format === 'subvol' || /(^|\/)subvol-/.test(volid);
      out.push({ volid, format: rec.format, content: content.has('images') && !isCt ? 'images' : 'rootdir', size: rec.size, vmid: rec.vmid, ctime: Math.floor(rec.createdAt / 1000) });
    }
    const base = storagePath(def);
    if (base) {
      for (const ct of ['vztmpl', 'iso', 'snippets', 'backup', 'import']) {
        if (!content.has(ct)) continue;
        const dir = path.join(base, CONTENT_SUBDIR[ct] ?? ct);
        let files: string[];
        try {
          files = fs.readdirSync(dir);
        } catch {
          continue;
        }
        for (const f of files.sort()) {
          const st = fs.statSync(path.join(dir, f));
          if (!st.isFile()) continue;
          const e: ContentEntry = {
            volid: `${storeid}:${ct}/${f}`,
            format: ct === 'iso' ? 'iso' : ct === 'snippets' ? 'snippet' : ct === 'backup' ? (/\.tar\.\w+$|\.tar$/.test(f) ? 'tar.zst' : 'vma.zst') : /\.tar\.(\w+)$/.exec(f)?.[1] ? `t${/\.tar\.(\w+)$/.exec(f)?.[1] ?? 'zst'}` : 'raw',
            content: ct,
            size: st.size,
            ctime: Math.floor(st.mtimeMs / 1000),
          };
          if (ct === 'vztmpl') e.format = `t${/\.tar\.(\w+)$/.exec(f)?.[1] ?? 'gz'}`.replace(/^t(gz|xz|zst)$/, 't$1');
          const vm = ct === 'backup' ? /^vzdump-(?:lxc|qemu)-(\d+)-/.exec(f) : null;
          if (vm) e.vmid = Number(vm[1]);
          out.push(e);
        }
      }
    }
  }
  return out.sort((a, b) => (a.volid < b.volid ? -1 : a.volid > b.volid ? 1 : 0));
}

export interface StorageStatus {
  total: number;
  used: number;
  avail: number;
  active: boolean;
  enabled: boolean;
}

function dirUsage(dir: string): number {
  let sum = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sum += dirUsage(p);
    else if (e.isFile()) sum += fs.statSync(p).size;
  }
  return sum;
}

export function storageStatus(state: State, storeid: string): StorageStatus {
  const def = storageConfig(state, storeid);
  const enabled = !def.props['disable'];
  if (def.type === 'zfspool') {
    const z = loadZfs(state);
    const ds = String(def.props['pool']);
    if (!z.datasets[ds]) return { total: 0, used: 0, avail: 0, active: false, enabled };
    const used = usedBytes(z, ds);
    const avail = availableBytes(z, ds);
    return { total: used + avail, used, avail, active: true, enabled };
  }
  const total = def.totalBytes ?? DEFAULT_DIR_BYTES;
  let used = 0;
  const p = storagePath(def);
  if (p) used += dirUsage(p);
  for (const [volid, rec] of Object.entries(loadRegistry(state))) if (volid.startsWith(`${storeid}:`)) used += def.type === 'lvm' ? rec.size : Math.min(rec.size, 700 * 1024 ** 2);
  used = Math.min(used, total);
  return { total, used, avail: total - used, active: true, enabled };
}

export { formatSize };
