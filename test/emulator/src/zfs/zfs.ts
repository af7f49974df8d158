import type { Ctx } from '../core/ctx.js';
import { getopt } from '../core/short-opts.js';
import { mutate, runSubcommand, table, usageError } from './cli.js';
import {
  availableBytes,
  childrenOf,
  cloneSnapshot,
  createDataset,
  destroyDataset,
  loadZfs,
  mountpointOf,
  niceBytes,
  parentOf,
  parseZfsSize,
  renameDataset,
  rollbackDataset,
  snapshotDataset,
  snapshotsOf,
  usedBytes,
  ZfsError,
  type ZfsState,
} from './model.js';

/** The `zfs` command (OpenZFS cmd/zfs) over the emulated pools. */

const USAGE = `usage: zfs command args ...
where 'command' is one of the following:

	version

	create [-Pnpuv] [-o property=value] ... <filesystem>
	create [-Pnpsv] [-b blocksize] [-o property=value] ... -V <size> <volume>
	destroy [-fnpRrv] <filesystem|volume>
	destroy [-dnpRrv] <filesystem|volume>@<snap>[%<snap>][,...]
	destroy <filesystem|volume>#<bookmark>

	snapshot [-r] [-o property=value] ... <filesystem|volume>@<snap> ...
	rollback [-rRf] <snapshot>
	clone [-p] [-o property=value] ... <snapshot> <filesystem|volume>
	rename [-f] <filesystem|volume|snapshot> <filesystem|volume|snapshot>

	list [-Hp] [-r|-d max] [-o property[,...]] [-s property]...
	    [-S property]... [-t type[,...]] [filesystem|volume|snapshot] ...

	set <property=value> ... <filesystem|volume|snapshot> ...
	get [-rHp] [-d max] [-o "all" | field[,...]]
	    [-t type[,...]] [-s source[,...]]
	    <"all" | property[,...]> [filesystem|volume|snapshot|bookmark] ...

Each dataset is of the form: pool/[dataset/]*dataset[@name]

For the property list, run: zfs set|get

For the delegated permission list, run: zfs allow|unallow
`;

const ALIASES: Record<string, string> = {
  avail: 'available',
  refer: 'referenced',
  compress: 'compression',
  refreserv: 'refreservation',
  reserv: 'reservation',
  volblock: 'volblocksize',
  recsize: 'recordsize',
};

const NUMERIC = new Set(['used', 'available', 'referenced', 'refquota', 'quota', 'volsize', 'written', 'logicalused', 'logicalreferenced', 'usedbysnapshots', 'usedbydataset', 'usedbychildren', 'refreservation', 'reservation', 'volblocksize', 'recordsize']);

const DEFAULTS: Record<string, string> = {
  compression: 'on',
  atime: 'on',
  canmount: 'on',
  recordsize: '131072',
  quota: '0',
  refquota: '0',
  reservation: '0',
  refreservation: '0',
  acltype: 'off',
  xattr: 'on',
  sync: 'standard',
  readonly: 'off',
  'com.sun:auto-snapshot': '-',
};

const HEADERS: Record<string, string> = {
  name: 'NAME',
  used: 'USED',
  available: 'AVAIL',
  referenced: 'REFER',
  mountpoint: 'MOUNTPOINT',
  refquota: 'REFQUOTA',
  quota: 'QUOTA',
  volsize: 'VOLSIZE',
  type: 'TYPE',
  creation: 'CREATION',
  origin: 'ORIGIN',
  compression: 'COMPRESS',
  refreservation: 'REFRESERV',
  reservation: 'RESERV',
  written: 'WRITTEN',
  volblocksize: 'VOLBLOCK',
  guid: 'GUID',
  createtxg: 'CREATETXG',
  mounted: 'MOUNTED',
  canmount: 'CANMOUNT',
};

function canon(prop: string): string {
  return ALIASES[prop] ?? prop;
}

function creationText(epoch: number): string {
  const d = new Date(epoch * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getDay()] ?? ''} ${months[d.getMonth()] ?? ''} ${String(d.getDate()).padStart(2)} ${p(d.getHours())}:${p(d.getMinutes())} ${d.getFullYear()}`;
}

/** Value and source of a property, as `zfs get` reports it. */
function propValue(z: ZfsState, name: string, prop: string, parsable: boolean): { value: string; source: string } | undefined {
  const ds = z.datasets[name];
  if (!ds) return undefined;
  const num = (n: number): string => (parsable ? String(n) : niceBytes(n));
  switch (prop) {
    case 'name':
      return { value: name, source: '-' };
    case 'type':
      return { value: ds.type, source: '-' };
    case 'creation':
      return { value: parsable ? String(ds.creation) : creationText(ds.creation), source: '-' };
    case 'used':
      return { value: num(usedBytes(z, name)), source: '-' };
    case 'available':
      return ds.type === 'snapshot' ? { value: '-', source: '-' } : { value: num(availableBytes(z, name)), source: '-' };
    case 'referenced':
    case 'logicalreferenced':
      return { value: num(ds.referenced), source: '-' };
    case 'written':
    case 'logicalused':
      return { value: num(ds.type === 'snapshot' ? 0 : ds.referenced), source: '-' };
    case 'usedbysnapshots':
      return { value: num(0), source: '-' };
    case 'mountpoint':
      if (ds.type !== 'filesystem') return { value: '-', source: '-' };
      return { value: mountpointOf(z, name), source: ds.props['mountpoint'] !== undefined ? 'local' : parentOf(name) ? `inherited from ${poolRoot(z, name)}` : 'default' };
    case 'origin':
      return { value: ds.origin ?? '-', source: '-' };
    case 'guid':
      return { value: ds.guid, source: '-' };
    case 'createtxg':
      return { value: String(ds.createtxg), source: '-' };
    case 'mounted':
      return { value: ds.type === 'filesystem' ? (mountpointOf(z, name) === 'none' ? 'no' : 'yes') : '-', source: '-' };
    case 'volsize':
      if (ds.type !== 'volume') return { value: '-', source: '-' };
      return { value: num(Number(ds.props['volsize'] ?? 0)), source: 'local' };
    default: {
      let cur: string | undefined = name.includes('@') ? name.slice(0, name.indexOf('@')) : name;
      while (cur) {
        const v = z.datasets[cur]?.props[prop];
        if (v !== undefined) {
          const src = cur === name ? 'local' : `inherited from ${cur}`;
          if (NUMERIC.has(prop)) {
            const n = v === 'none' ? 0 : Number(v);
            return { value: parsable ? String(n) : n === 0 ? 'none' : niceBytes(n), source: src };
          }
          return { value: v, source: src };
        }
        if (prop === 'refquota' || prop === 'refreservation' || prop === 'volsize' || prop === 'volblocksize') break;
        cur = parentOf(cur);
      }
      const d = DEFAULTS[prop];
      if (d === undefined) return prop.includes(':') ? { value: '-', source: '-' } : undefined;
      if (NUMERIC.has(prop)) return { value: parsable ? d : d === '0' ? 'none' : niceBytes(Number(d)), source: 'default' };
      return { value: d, source: 'default' };
    }
  }
}

function poolRoot(z: ZfsState, name: string): string {
  let cur = parentOf(name);
  while (cur && z.datasets[cur]?.props['mountpoint'] === undefined && parentOf(cur)) cur = parentOf(cur);
  return cur ?? name;
}

function typeMatches(type: string, types: Set<string>): boolean {
  if (types.has('all')) return true;
  if (type === 'snapshot') return types.has('snapshot') || types.has('snap');
  if (type === 'volume') return types.has('volume') || types.has('vol');
  return types.has('filesystem') || types.has('fs');
}

function expandNames(z: ZfsState, roots: string[], recursive: boolean, depth: number | undefined, types: Set<string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (n: string): void => {
    if (!seen.has(n)) {
      seen.add(n);
      out.push(n);
    }
  };
  const walk = (name: string, level: number): void => {
    const ds = z.datasets[name];
    if (!ds) return;
    if (typeMatches(ds.type, types)) add(name);
    if (!recursive && depth === undefined) {
      if (ds.type !== 'snapshot' && types.has('snapshot') && !types.has('filesystem') && !types.has('all')) {
        for (const s of snapshotsOf(z, name)) add(s);
      }
      return;
    }
    if (depth !== undefined && level >= depth) return;
    const kids = childrenOf(z, name).sort((a, b) => {
      const sa = a.includes('@');
      const sb = b.includes('@');
      if (sa !== sb) return sa ? -1 : 1;
      return sa ? (z.datasets[a]?.createtxg ?? 0) - (z.datasets[b]?.createtxg ?? 0) : a < b ? -1 : 1;
    });
    for (const k of kids) walk(k, level + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
}

function list(ctx: Ctx, argv: string[]): number {
  const o = getopt(argv, 'Hprv', 'odstS');
  if (o.error) return usage(ctx, o.error);
  const z = loadZfs(ctx.state);
  const cols = (o.values['o']?.join(',') ?? 'name,used,available,referenced,mountpoint').split(',').map(canon);
  const types = new Set((o.values['t']?.join(',') ?? (argv.includes('-t') ? '' : 'filesystem,volume')).split(',').filter(Boolean));
  if (!types.size) types.add('filesystem').add('volume');
  const depth = o.values['d'] ? Number(o.values['d'][0]) : undefined;
  const recursive = o.flags.has('r');
  let code = 0;
  let roots: string[];
  if (o.args.length) {
    roots = [];
    for (const n of o.args) {
      if (z.datasets[n]) roots.push(n);
      else {
        ctx.stderr(`cannot open '${n}': dataset does not exist\n`);
        code = 1;
      }
    }
  } else {
    roots = Object.keys(z.pools).sort();
  }
  const names = o.args.length ? expandNames(z, roots, recursive, depth, types) : expandNames(z, roots, true, depth, types);
  const parsable = o.flags.has('p');
  for (const c of cols) {
    if (!HEADERS[c] && !NUMERIC.has(c) && !DEFAULTS[c] && !c.includes(':') && !['guid', 'createtxg', 'acltype', 'xattr'].includes(c)) {
      ctx.stderr(`bad property list: invalid property '${c}'\n${USAGE}`);
      return 2;
    }
  }
  const rows = names.map((n) => cols.map((c) => propValue(z, n, c, parsable)?.value ?? '-'));
  const sortKey = o.values['s']?.[0] ?? o.values['S']?.[0];
  if (sortKey) {
    const k = canon(sortKey);
    const dir = o.values['S'] ? -1 : 1;
    const raw = names.map((n) => propValue(z, n, k, true)?.value ?? '');
    const idx = names.map((_, i) => i).sort((a, b) => {
      const va = raw[a] ?? '';
      const vb = raw[b] ?? '';
      const na = Number(va);
      const nb = Number(vb);
      return dir * (Number.isFinite(na) && Number.isFinite(nb) ? na - nb : va < vb ? -1 : va > vb ? 1 : 0);
    });
    rows.splice(0, rows.length, ...idx.map((i) => rows[i] ?? []));
  }
  if (!rows.length) {
    if (!o.flags.has('H') && code === 0) ctx.stderr('no datasets available\n');
    return code;
  }
  const headers = o.flags.has('H') ? undefined : cols.map((c) => HEADERS[c] ?? c.toUpperCase());
  ctx.out(table(rows, headers, cols.map((c) => NUMERIC.has(c)), o.flags.has('H')));
  return code;
}

function get(ctx: Ctx, argv: string[]): number {
  const o = getopt(argv, 'Hprv', 'odts');
  if (o.error) return usage(ctx, o.error);
  const [propArg, ...targets] = o.args;
  if (!propArg) return usage(ctx, 'missing property argument');
  const z = loadZfs(ctx.state);
  const fields = (o.values['o']?.join(',') ?? 'name,property,value,source').split(',');
  const knownProps = ['type', 'creation', 'used', 'available', 'referenced', 'mountpoint', 'origin', 'refquota', 'quota', 'volsize', 'compression', 'refreservation', 'guid', 'createtxg', 'written', 'volblocksize', 'mounted', 'canmount', 'acltype', 'xattr', 'atime', 'recordsize', 'readonly', 'sync'];
  const props = propArg === 'all' ? knownProps : propArg.split(',').map(canon);
  let code = 0;
  const roots: string[] = [];
  const names = targets.length ? targets : Object.keys(z.pools).sort();
  for (const n of names) {
    if (z.datasets[n]) roots.push(n);
    else {
      ctx.stderr(`cannot open '${n}': dataset does not exist\n`);
      code = 1;
    }
  }
  const types = new Set((o.values['t']?.join(',') ?? 'all').split(','));
  const list2 = o.flags.has('r') || !targets.length ? expandNames(z, roots, true, o.values['d'] ? Number(o.values['d'][0]) : undefined, types) : roots;
  const rows: string[][] = [];
  for (const n of list2) {
    for (const prop of props) {
      const pv = propValue(z, n, prop, o.flags.has('p'));
      if (!pv) {
        if (propArg !== 'all') {
          ctx.stderr(`bad property list: invalid property '${prop}'\n${USAGE}`);
          return 2;
        }
        continue;
      }
      const row: string[] = [];
      for (const f of fields) {
        if (f === 'name') row.push(n);
        else if (f === 'property') row.push(prop);
        else if (f === 'value') row.push(pv.value);
        else if (f === 'source') row.push(pv.source);
        else if (f === 'received') row.push('-');
      }
      rows.push(row);
    }
  }
  if (rows.length) ctx.out(table(rows, o.flags.has('H') ? undefined : fields.map((f) => f.toUpperCase()), fields.map(() => false), o.flags.has('H')));
  return code;
}

function parseProps(values: string[] | undefined): Record<string, string> | string {
  const props: Record<string, string> = {};
  for (const kv of values ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) return `invalid property '${kv}'`;
    const k = canon(kv.slice(0, eq));
    let v = kv.slice(eq + 1);
    if (NUMERIC.has(k) && v !== 'none') {
      const n = parseZfsSize(v);
      if (n === undefined) return `bad numeric value '${v}'`;
      v = String(n);
    }
    props[k] = v;
  }
  return props;
}

function usage(ctx: Ctx, msg: string): number {
  return usageError(ctx, USAGE, msg);
}

async function create(ctx: Ctx, argv: string[]): Promise<number> {
  const o = getopt(argv, 'pusPnv', 'oVb');
  if (o.error) return usage(ctx, o.error);
  const name = o.args[0];
  if (!name) return usage(ctx, 'missing filesystem argument');
  const props = parseProps(o.values['o']);
  if (typeof props === 'string') {
    ctx.stderr(`cannot create '${name}': ${props}\n`);
    return 1;
  }
  const vol = o.values['V']?.[0];
  let volsize: number | undefined;
  if (vol !== undefined) {
    volsize = parseZfsSize(vol);
    if (volsize === undefined) {
      ctx.stderr(`bad volume size '${vol}': invalid numeric value\n`);
      return 1;
    }
  }
  return mutate(ctx, (z) => {
    const opts: Parameters<typeof createDataset>[2] = { props, createParents: o.flags.has('p'), sparse: o.flags.has('s') };
    if (volsize !== undefined) opts.volsize = volsize;
    createDataset(z, name, opts);
  });
}

async function destroy(ctx: Ctx, argv: string[]): Promise<number> {
  const o = getopt(argv, 'fnpRrvd', '');
  if (o.error) return usage(ctx, o.error);
  const name = o.args[0];
  if (!name) return usage(ctx, 'missing dataset argument');
  return mutate(ctx, (z) => {
    destroyDataset(z, name, { recursive: o.flags.has('r'), recursiveClones: o.flags.has('R') });
  });
}

async function snapshot(ctx: Ctx, argv: string[]): Promise<number> {
  const o = getopt(argv, 'r', 'o');
  if (o.error) return usage(ctx, o.error);
  if (!o.args.length) return usage(ctx, 'missing snapshot argument');
  return mutate(ctx, (z) => {
    for (const full of o.args) {
      const at = full.indexOf('@');
      if (at < 0) throw new ZfsError(`cannot create snapshot '${full}': missing '@' delimiter in snapshot name`);
      snapshotDataset(z, full.slice(0, at), full.slice(at + 1), o.flags.has('r'));
    }
  });
}

async function rollback(ctx: Ctx, argv: string[]): Promise<number> {
  const o = getopt(argv, 'rRf', '');
  if (o.error) return usage(ctx, o.error);
  const snap = o.args[0];
  if (!snap) return usage(ctx, 'missing dataset argument');
  return mutate(ctx, (z) => rollbackDataset(z, snap, o.flags.has('r') || o.flags.has('R')));
}

async function clone(ctx: Ctx, argv: string[]): Promise<number> {
  const o = getopt(argv, 'p', 'o');
  if (o.error) return usage(ctx, o.error);
  const [snap, target] = o.args;
  if (!snap || !target) return usage(ctx, `missing ${snap ? 'target dataset' : 'source dataset'} argument`);
  const props = parseProps(o.values['o']);
  if (typeof props === 'string') {
    ctx.stderr(`cannot create '${target}': ${props}\n`);
    return 1;
  }
  return mutate(ctx, (z) => cloneSnapshot(z, snap, target, props));
}

async function rename(ctx: Ctx, argv: string[]): Promise<number> {
  const o = getopt(argv, 'fpu', '');
  const [from, to] = o.args;
  if (!from || !to) return usage(ctx, 'missing target dataset argument');
  return mutate(ctx, (z) => renameDataset(z, from, to));
}

async function set(ctx: Ctx, argv: string[]): Promise<number> {
  const assignments = argv.filter((a) => a.includes('='));
  const targets = argv.filter((a) => !a.includes('='));
  if (!assignments.length) return usage(ctx, 'missing property=value argument(s)');
  if (!targets.length) return usage(ctx, 'missing dataset name(s)');
  const z0 = loadZfs(ctx.state);
  for (const t of targets) {
    if (!z0.datasets[t]) {
      ctx.stderr(`cannot open '${t}': dataset does not exist\n`);
      return 1;
    }
  }
  const props = parseProps(assignments);
  if (typeof props === 'string') {
    ctx.stderr(`cannot set property for '${targets[0] ?? ''}': ${props}\n`);
    return 1;
  }
  for (const k of Object.keys(props)) {
    if (['used', 'available', 'referenced', 'type', 'creation', 'origin', 'guid', 'createtxg', 'written'].includes(k)) {
      ctx.stderr(`cannot set property for '${targets[0] ?? ''}': '${k}' is readonly\n`);
      return 1;
    }
    if (!k.includes(':') && DEFAULTS[k] === undefined && !['mountpoint', 'volsize'].includes(k)) {
      ctx.stderr(`cannot set property for '${targets[0] ?? ''}': invalid property '${k}'\n`);
      return 1;
    }
  }
  return mutate(ctx, (z) => {
    for (const t of targets) {
      const ds = z.datasets[t];
      if (ds) Object.assign(ds.props, props);
    }
  });
}

export function zfsMain(ctx: Ctx, argv: string[]): Promise<number> {
  return runSubcommand(ctx, argv, USAGE, { list, get, set, create, destroy, snapshot, snap: snapshot, rollback, clone, rename });
}
