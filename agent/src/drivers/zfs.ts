/** `zfs` and `zpool` with `-Hp` (tab-separated exact values; docs/reference/proxmox-cli.md §7). */
import { InvalidArgumentError, parseOrThrow, poolNameSchema } from '@phoenix/shared';
import * as a from './args.js';
import { ZFS_LIST_COLUMNS, ZPOOL_LIST_COLUMNS, parseZfsGet, parseZfsList, parseZpoolList } from './parse-zfs.js';
import type { CommandExecutor, ToolName } from './run.js';
import type { CallOptions, ZfsDriver } from './types.js';

const TYPES = new Set(['filesystem', 'volume', 'snapshot', 'bookmark', 'all']);
/** Native and user properties (`com.example:tag`). */
const PROPERTY_RE = /^[a-z][a-z0-9_.:-]*$/;

function propArg(name: string, value: string): string {
  if (!PROPERTY_RE.test(name)) throw new InvalidArgumentError('property', name, 'not a ZFS property name');
  if (/[\0\n]/.test(value)) throw new InvalidArgumentError(name, value, 'must not contain NUL or newline');
  return `${name}=${value}`;
}

export class Zfs implements ZfsDriver {
  constructor(private readonly exec_: CommandExecutor) {}

  private run(tool: ToolName, args: string[], mutating: boolean, opts: CallOptions = {}) {
    return this.exec_.run({
      tool,
      args,
      mutating,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
  }

  async list(root?: string, o: { recursive?: boolean; types?: readonly string[] } = {}, opts?: CallOptions) {
    const args = ['list', '-Hp', '-o', ZFS_LIST_COLUMNS.join(',')];
    if (o.recursive) args.push('-r');
    if (o.types && o.types.length > 0) {
      for (const t of o.types) if (!TYPES.has(t)) throw new InvalidArgumentError('types', t, 'not a ZFS dataset type');
      args.push('-t', o.types.join(','));
    }
    if (root !== undefined) args.push(a.dataset(root, 'root'));
    return parseZfsList((await this.run('zfs', args, false, opts)).stdout);
  }

  async get(dataset: string, properties: readonly string[], opts?: CallOptions) {
    for (const p of properties) if (!PROPERTY_RE.test(p)) throw new InvalidArgumentError('property', p, 'not a ZFS property name');
    const name = a.dataset(dataset);
    const res = await this.run('zfs', ['get', '-Hp', '-o', 'name,property,value,source', properties.length ? properties.join(',') : 'all', name], false, opts);
    const props = parseZfsGet(res.stdout).get(name) ?? new Map();
    return Object.fromEntries(props);
  }

  async create(dataset: string, properties: Readonly<Record<string, string>>, opts?: CallOptions) {
    const args = ['create', '-p'];
    for (const [k, v] of Object.entries(properties).sort(([x], [y]) => x.localeCompare(y))) args.push('-o', propArg(k, v));
    args.push(a.dataset(dataset));
    await this.run('zfs', args, true, opts);
  }

  async set(dataset: string, properties: Readonly<Record<string, string>>, opts?: CallOptions) {
    const pairs = Object.entries(properties).sort(([x], [y]) => x.localeCompare(y)).map(([k, v]) => propArg(k, v));
    if (pairs.length === 0) return;
    await this.run('zfs', ['set', ...pairs, a.dataset(dataset)], true, opts);
  }

  async poolList(opts?: CallOptions) {
    return parseZpoolList((await this.run('zpool', ['list', '-Hp', '-o', ZPOOL_LIST_COLUMNS.join(',')], false, opts)).stdout);
  }

  /** Validates a pool name the way zpool does (exported for callers that build pool paths). */
  static poolName(name: string): string {
    return parseOrThrow(poolNameSchema, name, 'pool');
  }
}
