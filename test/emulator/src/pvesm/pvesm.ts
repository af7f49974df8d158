import fs from 'node:fs';
import type { Params } from '../core/cli-args.js';
import type { Ctx } from '../core/ctx.js';
import { die, raiseParamExc } from '../core/errors.js';
import { splitList } from '../core/formats.js';
import { runPveCli, type Handler } from '../core/pve-cli.js';
import type { StorageDef } from '../core/state.js';
import { listContent, storageCheckEnabled, storageConfig, storageStatus, vdiskAlloc, vdiskFree, volumePath } from './storage.js';
import { withZfs } from '../zfs/model.js';
import { createDataset } from '../zfs/model.js';

/** The `pvesm` command (PVE::CLI::pvesm). */

const DEFAULT_CONTENT: Record<string, string[]> = {
  dir: ['images', 'rootdir'],
  nfs: ['images'],
  cifs: ['images'],
  zfspool: ['images', 'rootdir'],
  lvmthin: ['images', 'rootdir'],
  lvm: ['images', 'rootdir'],
  pbs: ['backup'],
};

const REQUIRED: Record<string, string[]> = {
  dir: ['path'],
  nfs: ['server', 'export'],
  cifs: ['server', 'share'],
  zfspool: ['pool'],
  lvmthin: ['vgname', 'thinpool'],
  lvm: ['vgname'],
  pbs: ['server', 'datastore'],
};

const NOT_PROPS = new Set(['storage', 'type', 'content', 'delete', 'digest', 'node']);

export interface StatusRow {
  storage: string;
  type: string;
  content: string;
  active: number;
  enabled: number;
  shared: number;
  total: number;
  used: number;
  avail: number;
  used_fraction: number;
}

/** GET /nodes/{node}/storage (also used by pvesh). */
export function storageIndex(ctx: Ctx, filter: { storage?: string; content?: string; enabled?: boolean }): StatusRow[] {
  const cfg = ctx.state.readStorageConfig();
  const rows: StatusRow[] = [];
  if (filter.storage && !cfg.storages[filter.storage]) die(`storage '${filter.storage}' does not exist`);
  for (const id of cfg.ids) {
    const def = cfg.storages[id];
    if (!def) continue;
    if (filter.storage && id !== filter.storage) continue;
    const nodes = def.props['nodes'];
    if (typeof nodes === 'string' && nodes && !splitList(nodes).includes(ctx.node)) continue;
    if (filter.content && !splitList(filter.content).some((c) => def.content.includes(c))) continue;
    const st = storageStatus(ctx.state, id);
    if (filter.enabled && !st.enabled) continue;
    rows.push({
      storage: id,
      type: def.type,
      content: [...def.content].sort().join(','),
      active: st.enabled && st.active ? 1 : 0,
      enabled: st.enabled ? 1 : 0,
      shared: def.props['shared'] ? 1 : 0,
      total: st.enabled ? st.total : 0,
      used: st.enabled ? st.used : 0,
      avail: st.enabled ? st.avail : 0,
      used_fraction: st.total > 0 ? st.used / st.total : 0,
    });
  }
  return rows;
}

function status(ctx: Ctx, p: Params): number {
  const f: { storage?: string; content?: string; enabled?: boolean } = {};
  if (typeof p['storage'] === 'string') f.storage = p['storage'];
  if (typeof p['content'] === 'string') f.content = p['content'];
  if (p['enabled'] === '1') f.enabled = true;
  const rows = storageIndex(ctx, f);
  const maxlen = Math.max(0, ...rows.map((r) => r.storage.length)) + 1;
  const r10 = (s: string): string => s.padStart(10);
  const r15 = (s: string): string => s.padStart(15);
  let out = `${'Name'.padEnd(maxlen)} ${r10('Type')} ${r10('Status')} ${r15('Total (KiB)')} ${r15('Used (KiB)')} ${r15('Available (KiB)')} ${'%'.padStart(8)}\n`;
  for (const r of [...rows].sort((a, b) => (a.storage < b.storage ? -1 : 1))) {
    let active = r.active ? 'active' : 'inactive';
    let per = (r.total > 0 ? (r.used * 100) / r.total : 0).toFixed(2).padStart(7) + '%';
    if (!r.enabled) {
      active = 'disabled';
      per = 'N/A'.padStart(8);
    }
    const kib = (n: number): string => String(Math.trunc(n / 1024));
    out += `${r.storage.padEnd(maxlen)} ${r10(r.type)} ${r10(active)} ${r15(kib(r.total))} ${r15(kib(r.used))} ${r15(kib(r.avail))} ${per}\n`;
  }
  ctx.out(out);
  return 0;
}

async function add(ctx: Ctx, p: Params): Promise<number> {
  const type = String(p['type']);
  const id = String(p['storage']);
  const props: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(p)) if (!NOT_PROPS.has(k) && typeof v === 'string') props[k] = /^\d+$/.test(v) && k !== 'path' ? Number(v) : v;
  for (const req of REQUIRED[type] ?? []) if (props[req] === undefined) die(`missing value for required option '${req}'`);
  if (type === 'nfs' || type === 'cifs') props['path'] ??= `/mnt/pve/${id}`;
  const content = typeof p['content'] === 'string' ? splitList(p['content']) : (DEFAULT_CONTENT[type] ?? ['images']);
  await ctx.state.withStateLock(async () => {
    const cfg = ctx.state.readStorageConfig();
    if (cfg.storages[id]) die(`create storage failed: storage ID '${id}' already defined`);
    const def: StorageDef = { type, content, props };
    cfg.ids.push(id);
    cfg.storages[id] = def;
    const p0 = props['path'];
    if (typeof p0 === 'string' && type !== 'zfspool' && props['create-base-path'] !== 0 && props['mkdir'] !== 0) {
      fs.mkdirSync(p0, { recursive: true });
    }
    ctx.state.writeStorageConfig(cfg);
  });
  if (type === 'zfspool') {
    const pool = String(props['pool']);
    await withZfs(ctx.state, (z) => {
      const poolName = pool.split('/')[0] ?? pool;
      if (z.pools[poolName] && !z.datasets[pool]) createDataset(z, pool, { createParents: true });
    });
  }
  return 0;
}

async function set(ctx: Ctx, p: Params): Promise<number> {
  const id = String(p['storage']);
  const del = splitList(String(p['delete'] ?? ''));
  await ctx.state.withStateLock(() => {
    const cfg = ctx.state.readStorageConfig();
    const def = cfg.storages[id];
    if (!def) die(`update storage failed: storage '${id}' does not exist`);
    for (const k of del) {
      if (p[k] !== undefined) die(`update storage failed: cannot set and delete property '${k}' at the same time!`);
      if (k === 'content') def.content = DEFAULT_CONTENT[def.type] ?? [];
      else delete def.props[k];
    }
    if (typeof p['content'] === 'string') def.content = splitList(p['content']);
    for (const [k, v] of Object.entries(p)) if (!NOT_PROPS.has(k) && typeof v === 'string') def.props[k] = /^\d+$/.test(v) ? Number(v) : v;
    ctx.state.writeStorageConfig(cfg);
  });
  return 0;
}

async function remove(ctx: Ctx, p: Params): Promise<number> {
  const id = String(p['storage']);
  await ctx.state.withStateLock(() => {
    const cfg = ctx.state.readStorageConfig();
    if (!cfg.storages[id]) die(`delete storage failed: storage '${id}' does not exist`);
    delete cfg.storages[id];
    cfg.ids = cfg.ids.filter((x) => x !== id);
    ctx.state.writeStorageConfig(cfg);
  });
  return 0;
}

function list(ctx: Ctx, p: Params): number {
  const storage = String(p['storage']);
  let rows = listContent(ctx.state, storage);
  if (typeof p['content'] === 'string') rows = rows.filter((r) => r.content === p['content']);
  if (typeof p['vmid'] === 'string') rows = rows.filter((r) => r.vmid === Number(p['vmid']));
  const maxName = Math.max(0, ...rows.map((r) => r.volid.length));
  const maxSize = Math.max(0, ...rows.map((r) => r.size));
  const digits = String(maxSize).length;
  const base = (a: string, b: string, c: string, d: string): string => `${a.padEnd(maxName)} ${b.padEnd(7)} ${c.padEnd(9)} ${d.padStart(digits)}`;
  let out = `${base('Volid', 'Format', 'Type', 'Size')} VMID\n`;
  for (const r of rows) if (r.vmid) out += `${base(r.volid, r.format, r.content, String(r.size))} ${r.vmid}\n`;
  for (const r of [...rows].sort((a, b) => (a.format < b.format ? -1 : a.format > b.format ? 1 : 0))) {
    if (!r.vmid) out += `${base(r.volid, r.format, r.content, String(r.size))}\n`;
  }
  ctx.out(out);
  return 0;
}

async function alloc(ctx: Ctx, p: Params): Promise<number> {
  const storage = String(p['storage']);
  const vmid = Number(p['vmid']);
  const name = String(p['filename']);
  const sizestr = String(p['size']);
  let sizeKiB: number;
  let m: RegExpExecArray | null;
  if (/^\d+$/.test(sizestr)) sizeKiB = Number(sizestr);
  else if ((m = /^(\d+)M$/.exec(sizestr))) sizeKiB = Number(m[1]) * 1024;
  else if ((m = /^(\d+)G$/.exec(sizestr))) sizeKiB = Number(m[1]) * 1024 * 1024;
  else raiseParamExc([['size', `unable to parse size '${sizestr}'`]]);
  let fmt = typeof p['format'] === 'string' ? p['format'] : undefined;
  const ext = /\.(raw|qcow2|vmdk)$/.exec(name);
  if (ext) {
    if (fmt && fmt !== ext[1]) raiseParamExc([['format', `different storage formats (${fmt} != ${ext[1] ?? ''})`]]);
    fmt = ext[1];
  }
  const def = storageCheckEnabled(ctx.state, storage);
  if (def.type === 'zfspool' && fmt === 'subvol') {
    if (!name.startsWith(`subvol-${vmid}-`)) die(`illegal name '${name}' - should be 'subvol-${vmid}-*'`);
  } else if (!name.startsWith(`vm-${vmid}-`)) die(`illegal name '${name}' - should be 'vm-${vmid}-*'`);
  const file = def.type === 'zfspool' || def.type === 'lvmthin' || def.type === 'lvm' ? name : ext ? name : `${name}.${fmt ?? 'raw'}`;
  const res = await vdiskAlloc(ctx.state, storage, vmid, fmt ?? 'raw', file, sizeKiB);
  for (const l of res.output) ctx.out(`${l}\n`);
  ctx.out(`successfully created '${res.volid}'\n`);
  return 0;
}

async function free(ctx: Ctx, p: Params): Promise<number> {
  const volid = String(p['volume']);
  const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):/i.exec(volid);
  const sid = typeof p['storage'] === 'string' ? p['storage'] : m?.[1];
  if (!sid) die(`unable to parse volume ID '${volid}'`);
  storageConfig(ctx.state, sid);
  await vdiskFree(ctx.state, volid.includes(':') ? volid : `${sid}:${volid}`);
  return 0;
}

const handlers: Record<string, Handler> = {
  status,
  add,
  set,
  remove,
  list,
  alloc,
  free,
  path: (ctx, p) => {
    ctx.out(`${volumePath(ctx.state, String(p['volume']))}\n`);
    return 0;
  },
  apiinfo: (ctx) => {
    ctx.out('APIVER 12\nAPIAGE 3\n');
    return 0;
  },
};

export function pvesmMain(ctx: Ctx, argv: string[]): Promise<number> {
  return runPveCli(ctx, 'pvesm', argv, handlers);
}
