import fs from 'node:fs';
import path from 'node:path';
import type { ConfSection, GuestConfig } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { die, errorText } from '../core/errors.js';
import { bestEffort, copyRootfs, rootfsOf, snapshotRootfs } from './guest-api.js';
import { checkLock, isRunning, isTemplate, loadConfig, lockConfig, writeConfig } from './guest-store.js';
import type { GuestType } from '../core/state.js';
import { volumeHasFeature, volumeRollbackIsPossible, volumeSnapshot, volumeSnapshotDelete, volumeSnapshotRollback } from '../pvesm/storage.js';

/** The snapshot lifecycle shared by containers and VMs (PVE::AbstractConfig). */
export interface GuestOps {
  type: GuestType;
  /** Storage volumes of a config section that take part in snapshots: [key, volid or path]. */
  snapVolumes(section: ConfSection): Array<[string, string]>;
  /** Output printed before each volume snapshot (qemu: "snapshotting 'drive-scsi0' (...)"). */
  snapshotMessage?(key: string, volid: string): string | undefined;
  /** Stop a running guest (rollback stops it first). */
  stop(ctx: Ctx, vmid: number): Promise<void>;
}

function hasSnapshotFeature(ctx: Ctx, ops: GuestOps, section: ConfSection): boolean {
  for (const [, volid] of ops.snapVolumes(section)) {
    if (volid.startsWith('/')) return false;
    try {
      if (!volumeHasFeature(ctx.state, 'snapshot', volid)) return false;
    } catch {
      return false;
    }
  }
  return true;
}

function copySection(src: ConfSection, dest: ConfSection): void {
  for (const [k, v] of Object.entries(src.props)) {
    if (['snapstate', 'snaptime', 'vmstate', 'lock', 'digest'].includes(k) || /^unused\d+$/.test(k)) continue;
    dest.props[k] = v;
  }
  dest.lxc = [...src.lxc];
}

export async function snapshotCreate(ctx: Ctx, ops: GuestOps, vmid: number, snapname: string, description?: string): Promise<void> {
  const state = ctx.state;
  const type = ops.type;
  let snap: ConfSection | undefined;
  await lockConfig(ctx, type, vmid, () => {
    const conf = loadConfig(ctx, state, type, vmid);
    if (isTemplate(conf)) die("you can't take a snapshot if it's a template");
    checkLock(type, conf);
    conf.props['lock'] = 'snapshot';
    if (conf.snapshots[snapname]) die(`snapshot name '${snapname}' already used`);
    if (!hasSnapshotFeature(ctx, ops, conf)) die('snapshot feature is not available');
    for (const [name, s] of Object.entries(conf.snapshots)) {
      if (s.props['parent'] === snapname) {
        ctx.err(`deleting parent '${snapname}' reference from '${name}' to avoid bogus snapshot cycle.\n`);
        delete s.props['parent'];
      }
    }
    snap = { props: {}, lxc: [] };
    copySection(conf, snap);
    snap.props['snapstate'] = 'prepare';
    snap.props['snaptime'] = String(Math.floor(Date.now() / 1000));
    if (description) snap.description = description;
    conf.snapshots[snapname] = snap;
    writeConfig(state, type, vmid, conf);
  });
  const done: string[] = [];
  try {
    await state.clock.sleepFor('snapshot');
    for (const [key, volid] of ops.snapVolumes(snap ?? { props: {}, lxc: [] })) {
      const msg = ops.snapshotMessage?.(key, volid);
      if (msg) ctx.out(msg);
      await volumeSnapshot(state, volid, snapname);
      done.push(volid);
    }
    await bestEffort(state.dir, `${vmid} snapshot ${snapname}`, () => copyRootfs(rootfsOf(state.guestDir(vmid)), snapshotRootfs(state.guestDir(vmid), snapname)));
  } catch (err) {
    ctx.err('snapshot create failed: starting cleanup\n');
    try {
      for (const volid of done) await volumeSnapshotDelete(state, volid, snapname);
      await lockConfig(ctx, type, vmid, () => {
        const conf = loadConfig(ctx, state, type, vmid);
        delete conf.snapshots[snapname];
        delete conf.props['lock'];
        writeConfig(state, type, vmid, conf);
      });
    } catch (e) {
      ctx.err(errorText(e));
    }
    throw err;
  }
  await lockConfig(ctx, type, vmid, () => {
    const conf = loadConfig(ctx, state, type, vmid);
    if (conf.props['lock'] !== 'snapshot') die('missing snapshot lock');
    const s = conf.snapshots[snapname];
    if (!s) die(`snapshot '${snapname}' does not exist`);
    if (s.props['snapstate'] !== 'prepare') die('wrong snapshot state');
    delete s.props['snapstate'];
    delete conf.props['lock'];
    conf.props['parent'] = snapname;
    writeConfig(state, type, vmid, conf);
  });
}

export async function snapshotDelete(ctx: Ctx, ops: GuestOps, vmid: number, snapname: string, force: boolean): Promise<void> {
  const state = ctx.state;
  const type = ops.type;
  const conf0 = loadConfig(ctx, state, type, vmid);
  if (!conf0.snapshots[snapname]) die(`snapshot '${snapname}' does not exist`);
  await lockConfig(ctx, type, vmid, () => {
    const conf = loadConfig(ctx, state, type, vmid);
    checkLock(type, conf);
    conf.props['lock'] = 'snapshot-delete';
    writeConfig(state, type, vmid, conf);
  });
  const ensureLock = (conf: GuestConfig): void => {
    if (conf.props['lock'] !== 'snapshot-delete') die("encountered invalid lock, expected 'snapshot-delete'");
  };
  let snap: ConfSection | undefined;
  await lockConfig(ctx, type, vmid, () => {
    const conf = loadConfig(ctx, state, type, vmid);
    ensureLock(conf);
    if (isTemplate(conf)) die("you can't delete a snapshot if vm is a template");
    snap = conf.snapshots[snapname];
    if (!snap) die(`snapshot '${snapname}' does not exist`);
    snap.props['snapstate'] = 'delete';
    writeConfig(state, type, vmid, conf);
  });
  await state.clock.sleepFor('delsnapshot');
  for (const [, volid] of ops.snapVolumes(snap ?? { props: {}, lxc: [] })) {
    try {
      await volumeSnapshotDelete(state, volid, snapname);
    } catch (err) {
      if (!force) throw err;
      ctx.err(errorText(err));
    }
  }
  fs.rmSync(path.dirname(snapshotRootfs(state.guestDir(vmid), snapname)), { recursive: true, force: true });
  await lockConfig(ctx, type, vmid, () => {
    const conf = loadConfig(ctx, state, type, vmid);
    ensureLock(conf);
    const s = conf.snapshots[snapname];
    if (!s) die(`snapshot '${snapname}' does not exist`);
    const newParent = s.props['parent'];
    const relink = (sec: ConfSection): void => {
      if (sec.props['parent'] !== snapname) return;
      if (newParent) sec.props['parent'] = newParent;
      else delete sec.props['parent'];
    };
    relink(conf);
    for (const [name, other] of Object.entries(conf.snapshots)) if (name !== snapname) relink(other);
    delete conf.snapshots[snapname];
    delete conf.props['lock'];
    writeConfig(state, type, vmid, conf);
  });
}

export async function snapshotRollback(ctx: Ctx, ops: GuestOps, vmid: number, snapname: string): Promise<void> {
  const state = ctx.state;
  const type = ops.type;
  const getSnap = (conf: GuestConfig): ConfSection => {
    if (isTemplate(conf)) die("you can't rollback if vm is a template");
    const s = conf.snapshots[snapname];
    if (!s) die(`snapshot '${snapname}' does not exist`);
    return s;
  };
  let snap: ConfSection | undefined;
  await lockConfig(ctx, type, vmid, async () => {
    const conf = loadConfig(ctx, state, type, vmid);
    snap = getSnap(conf);
    for (const [, volid] of ops.snapVolumes(snap)) volumeRollbackIsPossible(state, volid, snapname);
    if (snap.props['snapstate']) die(`unable to rollback to incomplete snapshot (snapstate = ${snap.props['snapstate']})`);
    checkLock(type, conf);
    if (isRunning(state, type, vmid)) await ops.stop(ctx, vmid);
    if (isRunning(state, type, vmid)) die(`unable to rollback vm ${vmid}: vm is running`);
    conf.props['lock'] = 'rollback';
    writeConfig(state, type, vmid, conf);
  });
  await state.clock.sleepFor('rollback');
  for (const [, volid] of ops.snapVolumes(snap ?? { props: {}, lxc: [] })) await volumeSnapshotRollback(state, volid, snapname);
  const snapRootfs = snapshotRootfs(state.guestDir(vmid), snapname);
  if (fs.existsSync(snapRootfs)) await bestEffort(state.dir, `${vmid} rollback ${snapname}`, () => copyRootfs(snapRootfs, rootfsOf(state.guestDir(vmid))));
  await lockConfig(ctx, type, vmid, () => {
    const conf = loadConfig(ctx, state, type, vmid);
    const s = getSnap(conf);
    if (conf.props['lock'] !== 'rollback') die('got wrong lock');
    const next: GuestConfig = { props: {}, lxc: [], pending: { props: {}, lxc: [] }, snapshots: conf.snapshots, special: conf.special };
    for (const [k, v] of Object.entries(conf.props)) if (/^unused\d+$/.test(k)) next.props[k] = v;
    if (conf.description !== undefined) next.description = conf.description;
    copySection(s, next);
    next.props['parent'] = snapname;
    writeConfig(state, type, vmid, next);
  });
}

/** GET .../snapshot: the snapshots plus the "current" pseudo entry. */
export interface SnapshotItem {
  name: string;
  snaptime?: number;
  description: string;
  parent?: string;
  snapstate?: string;
  running?: number;
  vmstate?: number;
}

export function snapshotList(ctx: Ctx, type: GuestType, vmid: number): SnapshotItem[] {
  const conf = loadConfig(ctx, ctx.state, type, vmid);
  const res: SnapshotItem[] = [];
  for (const [name, s] of Object.entries(conf.snapshots)) {
    const item: SnapshotItem = { name, snaptime: Number(s.props['snaptime'] ?? 0), description: s.description ?? '' };
    if (s.props['parent'] !== undefined) item.parent = s.props['parent'];
    if (s.props['snapstate']) item.snapstate = s.props['snapstate'];
    if (type === 'qemu') item.vmstate = s.props['vmstate'] ? 1 : 0;
    res.push(item);
  }
  const current: SnapshotItem = { name: 'current', description: 'You are here!', running: isRunning(ctx.state, type, vmid) ? 1 : 0 };
  if (conf.props['parent'] !== undefined) current.parent = conf.props['parent'];
  res.push(current);
  return res;
}

function strftime(epoch: number): string {
  const d = new Date(epoch * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** GuestHelpers::print_snapshot_tree. */
export function printSnapshotTree(ctx: Ctx, list: SnapshotItem[]): void {
  const byName = new Map(list.map((e) => [e.name, { ...e, children: [] as string[] }]));
  const roots: string[] = [];
  for (const e of list) {
    const parent = e.parent ? byName.get(e.parent) : undefined;
    if (parent) parent.children.push(e.name);
    else roots.push(e.name);
  }
  const sortFn = (a: string, b: string): number => {
    const ta = byName.get(a)?.snaptime;
    const tb = byName.get(b)?.snaptime;
    if (ta === undefined) return 1;
    if (tb === undefined) return -1;
    return ta - tb;
  };
  let out = '';
  const walk = (prefix: string, name: string): void => {
    const e = byName.get(name);
    if (!e) return;
    const description = (e.description || 'no-description').split('\n')[0] ?? '';
    const time = e.snaptime !== undefined ? strftime(e.snaptime) : '';
    const len = Math.max(0, 30 - prefix.length);
    out += `${prefix} ${name.padEnd(len)} ${time.padEnd(23)} ${description}\n`;
    for (const child of [...e.children].sort(sortFn)) walk(` ${prefix}`, child);
  };
  for (const r of roots.sort(sortFn)) walk('`->', r);
  ctx.out(out);
}
