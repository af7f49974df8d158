import type { Ctx } from '../core/ctx.js';
import { getopt } from '../core/short-opts.js';
import { mutate, runSubcommand, table } from './cli.js';
import { findDisk, loadDisks, partitionPath, saveDisks, type DisksState } from '../host/disks.js';
import { createPool, loadZfs, niceBytes, poolAllocated, poolOf, ZfsError, type ZfsState } from './model.js';

/** The `zpool` command (OpenZFS cmd/zpool) over the emulated pools. */

const USAGE = `usage: zpool command args ...
where 'command' is one of the following:

	version

	create [-fnd] [-o property=value] ...
	    [-O file-system-property=value] ...
	    [-m mountpoint] [-R root] <pool> <vdev> ...
	destroy [-f] <pool>

	list [-gHLpPv] [-o property[,...]] [-T d|u] [pool] ...
	    [interval [count]]
	status [-DegiLpPstvx] [-T d|u] [pool] ... [interval [count]]
`;

const DISK_BYTES = 1024 ** 4;

const COLS: Record<string, string> = {
  name: 'NAME',
  size: 'SIZE',
  allocated: 'ALLOC',
  free: 'FREE',
  checkpoint: 'CKPOINT',
  expandsize: 'EXPANDSZ',
  fragmentation: 'FRAG',
  capacity: 'CAP',
  dedupratio: 'DEDUP',
  health: 'HEALTH',
  altroot: 'ALTROOT',
  guid: 'GUID',
};
const ALIASES: Record<string, string> = { alloc: 'allocated', cap: 'capacity', frag: 'fragmentation', dedup: 'dedupratio', expandsz: 'expandsize', ckpoint: 'checkpoint' };
const RIGHT = new Set(['size', 'allocated', 'free', 'checkpoint', 'expandsize', 'fragmentation', 'capacity', 'dedupratio']);

function value(z: ZfsState, pool: string, col: string, parsable: boolean): string {
  const p = z.pools[pool];
  if (!p) return '-';
  const alloc = poolAllocated(z, pool);
  switch (col) {
    case 'name':
      return pool;
    case 'size':
      return parsable ? String(p.size) : niceBytes(p.size);
    case 'allocated':
      return parsable ? String(alloc) : niceBytes(alloc);
    case 'free':
      return parsable ? String(p.size - alloc) : niceBytes(p.size - alloc);
    case 'checkpoint':
    case 'expandsize':
      return '-';
    case 'fragmentation':
      return parsable ? '0' : '0%';
    case 'capacity': {
      const c = Math.floor((alloc * 100) / p.size);
      return parsable ? String(c) : `${c}%`;
    }
    case 'dedupratio':
      return parsable ? '1.00' : '1.00x';
    case 'health':
      return p.health;
    case 'altroot':
      return '-';
    case 'guid':
      return p.guid;
    default:
      return '-';
  }
}

function list(ctx: Ctx, argv: string[]): number {
  const o = getopt(argv, 'gHLpPv', 'oT');
  if (o.error) {
    ctx.stderr(`${o.error}\n${USAGE}`);
    return 2;
  }
  const z = loadZfs(ctx.state);
  const cols = (o.values['o']?.join(',') ?? 'name,size,allocated,free,checkpoint,expandsize,fragmentation,capacity,dedupratio,health,altroot')
    .split(',')
    .map((c) => ALIASES[c] ?? c);
  for (const c of cols) {
    if (!COLS[c]) {
      ctx.stderr(`property '${c}' is not a valid pool or vdev property\n`);
      return 2;
    }
  }
  let code = 0;
  const pools: string[] = [];
  for (const name of o.args.length ? o.args : Object.keys(z.pools).sort()) {
    if (z.pools[name]) pools.push(name);
    else {
      ctx.stderr(`cannot open '${name}': no such pool\n`);
      code = 1;
    }
  }
  if (!pools.length) {
    if (code === 0) ctx.stderr('no pools available\n');
    return code;
  }
  const rows = pools.map((p) => cols.map((c) => value(z, p, c, o.flags.has('p'))));
  const scripted = o.flags.has('H');
  ctx.out(table(rows, scripted ? undefined : cols.map((c) => COLS[c] ?? c), cols.map((c) => RIGHT.has(c)), scripted));
  return code;
}

function status(ctx: Ctx, argv: string[]): number {
  const o = getopt(argv, 'DegiLpPstvx', 'T');
  const z = loadZfs(ctx.state);
  const names = o.args.length ? o.args : Object.keys(z.pools).sort();
  if (!Object.keys(z.pools).length && !o.args.length) {
    ctx.out('no pools available\n');
    return 0;
  }
  let code = 0;
  const blocks: string[] = [];
  for (const name of names) {
    const p = z.pools[name];
    if (!p) {
      ctx.stderr(`cannot open '${name}': no such pool\n`);
      code = 1;
      continue;
    }
    const w = Math.max(10, name.length, ...p.vdevs.map((v) => v.length + 2));
    const line = (n: string, st: string): string => `\t${n.padEnd(w)}  ${st.padEnd(8)}  ${'0'.padStart(4)}  ${'0'.padStart(4)}  ${'0'.padStart(4)}\n`;
    let b = `  pool: ${name}\n state: ${p.health}\nconfig:\n\n\t${'NAME'.padEnd(w)}  ${'STATE'.padEnd(8)}  READ WRITE CKSUM\n`;
    b += line(name, p.health);
    for (const v of p.vdevs) b += line(`  ${v}`, 'ONLINE');
    b += '\nerrors: No known data errors\n';
    blocks.push(b);
  }
  ctx.out(blocks.join('\n'));
  return code;
}

async function create(ctx: Ctx, argv: string[]): Promise<number> {
  const o = getopt(argv, 'fnd', 'oOmRt');
  if (o.error) {
    ctx.stderr(`${o.error}\n${USAGE}`);
    return 2;
  }
  const [name, ...vdevs] = o.args;
  if (!name) {
    ctx.stderr(`missing pool name argument\n${USAGE}`);
    return 2;
  }
  if (!vdevs.length) {
    ctx.stderr(`invalid vdev specification: at least one toplevel vdev must be specified\n${USAGE}`);
    return 2;
  }
  if (!/^[A-Za-z][A-Za-z0-9_.:-]*$/.test(name) || /^(mirror|raidz\d?|draid|spare|log|cache)/.test(name)) {
    ctx.stderr(`cannot create '${name}': invalid character in pool name\n`);
    return 1;
  }
  const disks = vdevs.filter((v) => !/^(mirror|raidz[123]?|log|cache|spare|special|dedup)$/.test(v));
  let data = 0;
  let i = 0;
  while (i < vdevs.length) {
    const v = vdevs[i] ?? '';
    /** Disks of the group vdev starting at i (mirror/raidz and its members). */
    const members = (): number => {
      let n = 0;
      i++;
      while (i < vdevs.length && !/^(mirror|raidz[123]?|log|cache|spare)$/.test(vdevs[i] ?? '')) {
        n++;
        i++;
      }
      return n;
    };
    if (v === 'mirror') {
      data += members() ? 1 : 0;
    } else if (/^raidz([123]?)$/.test(v)) {
      const parity = Number(/^raidz([123]?)$/.exec(v)?.[1] || 1);
      data += Math.max(0, members() - parity);
    } else if (/^(log|cache|spare|special|dedup)$/.test(v)) {
      i += 2;
    } else {
      data++;
      i++;
    }
  }
  const groupError = checkGroups(vdevs);
  if (groupError) {
    ctx.stderr(`${groupError}\n`);
    return 1;
  }
  const disksState = loadDisks(ctx.state);
  if (disksState) {
    const missing = disks.find((d) => !findDisk(disksState, d));
    if (missing !== undefined) {
      ctx.stderr(`cannot open '${missing}': No such file or directory\n`);
      return 1;
    }
  }
  const mountpoint = o.values['m']?.[0];
  return mutate(ctx, (z) => {
      if (disksState) {
        const problems = diskProblems(disksState, disks, z, o.flags.has('f'));
        if (problems.length > 0) {
          const overridable = problems.every((p) => p.overridable) && !o.flags.has('f');
          throw new ZfsError(`invalid vdev specification\n${overridable ? "use '-f' to override the following errors:" : 'the following errors must be manually repaired:'}\n${problems.map((p) => p.text).join('\n')}`);
        }
        labelDisks(disksState, disks, name);
        saveDisks(ctx.state, disksState);
      }
      if (z.pools[name]) throw new ZfsError(`cannot create '${name}': pool already exists`);
      const inUse = Object.entries(z.pools).find(([, p]) => p.vdevs.some((d) => disks.includes(d)));
      if (inUse && !o.flags.has('f')) {
        throw new ZfsError(`invalid vdev specification\nuse '-f' to override the following errors:\n${disks.find((d) => inUse[1].vdevs.includes(d)) ?? ''} is part of active pool '${inUse[0]}'`);
      }
      createPool(z, name, disks, Math.max(1, data) * DISK_BYTES, mountpoint);
      const fsProps = o.values['O'] ?? [];
      for (const kv of fsProps) {
        const eq = kv.indexOf('=');
        const ds = z.datasets[name];
        if (eq > 0 && ds) ds.props[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
  });
}

async function destroy(ctx: Ctx, argv: string[]): Promise<number> {
  const o = getopt(argv, 'f', '');
  const name = o.args[0];
  if (!name) {
    ctx.stderr(`missing pool argument\n${USAGE}`);
    return 2;
  }
  return mutate(ctx, (z) => {
    if (!z.pools[name]) throw new ZfsError(`cannot open '${name}': no such pool`);
    for (const ds of Object.keys(z.datasets)) if (poolOf(ds) === name) delete z.datasets[ds];
    delete z.pools[name];
  });
}

export function zpoolMain(ctx: Ctx, argv: string[]): Promise<number> {
  return runSubcommand(ctx, argv, USAGE, { list, status, create, destroy });
}

/** zpool_vdev.c construct_spec: each mirror/raidzN group needs its fewest devices (raidzN: N+1). */
function checkGroups(vdevs: string[]): string | undefined {
  const grouping = /^(mirror|raidz[123]?)$/;
  for (let i = 0; i < vdevs.length; i++) {
    const type = vdevs[i] ?? '';
    if (!grouping.test(type)) continue;
    let n = 0;
    while (i + 1 + n < vdevs.length && !/^(mirror|raidz[123]?|log|cache|spare|special|dedup)$/.test(vdevs[i + 1 + n] ?? '')) n++;
    const min = type === 'mirror' ? 2 : Number(/\d$/.exec(type)?.[0] ?? 1) + 1;
    if (n < min) return `invalid vdev specification: ${type} requires at least ${min} devices`;
    i += n;
  }
  return undefined;
}

/**
 * check_in_use/check_disk: a ZFS label of an active pool can never be overridden; other pools'
 * labels and file systems can with -f. A bare partition table without file systems is relabelled.
 */
function diskProblems(d: DisksState, disks: string[], z: { pools: Record<string, unknown> }, force: boolean): Array<{ text: string; overridable: boolean }> {
  const out: Array<{ text: string; overridable: boolean }> = [];
  for (const path of disks) {
    const disk = findDisk(d, path);
    if (!disk) continue;
    const where: Array<{ name: string; fstype?: string | undefined; label?: string | undefined }> = [
      { name: path, fstype: disk.fstype, label: disk.label },
      ...(disk.partitions ?? []).map((p, i) => ({ name: partitionPath(path.startsWith('/dev/disk/') ? `${path}-part` : path, i + 1).replace(/-partp?/, '-part'), fstype: p.fstype, label: p.label })),
    ];
    for (const w of where) {
      if (!w.fstype) continue;
      if (w.fstype === 'zfs_member') {
        const active = w.label !== undefined && Object.hasOwn(z.pools, w.label);
        if (active || !force) out.push({ text: `${w.name} is part of ${active ? 'active' : disk.poolState ?? 'exported'} pool '${w.label ?? ''}'`, overridable: !active });
      } else if (!force) out.push({ text: `${w.name} contains a filesystem of type '${w.fstype}'`, overridable: true });
    }
  }
  return out;
}

/** A whole disk given to zpool gets a GPT label: partition 1 holds the pool, partition 9 is reserved. */
function labelDisks(d: DisksState, disks: string[], pool: string): void {
  for (const path of disks) {
    const disk = findDisk(d, path);
    if (!disk) continue;
    disk.pttype = 'gpt';
    delete disk.fstype;
    delete disk.label;
    disk.partitions = [{ fstype: 'zfs_member', label: pool }, {}];
    disk.poolState = 'active';
  }
}
