/**
 * Reads what host setup needs to know about the node: pools, the disks of pools still to create
 * (lsblk), datasets, storages, the managed files and directories under the host root, and the
 * AppArmor profiles loaded in the kernel, the firewall levels the spec names. Read-only.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isPhoenixError, type agentv1 } from '@phoenix/shared';
import type { CommandExecutor, NodeDrivers } from '../drivers/index.js';
import { levelPath, ruleFromApi } from './firewall.js';
import {
  apparmorFile,
  HOST_FILES,
  type DirState,
  type DiskState,
  type FwLevelName,
  type FwLevelState,
  type FwRuleState,
  type ObservedHost,
  type StorageState,
} from './types.js';

export interface HostIo {
  drivers: NodeDrivers;
  executor: CommandExecutor;
  /** Root of the node's file system (agent config `tools.hostRoot`). */
  hostRoot: string;
  /** The node's name in the cluster (its /nodes/<node> API path). */
  node: string;
}

export async function observeHost(spec: agentv1.HostSpec, io: HostIo, signal: AbortSignal): Promise<ObservedHost> {
  const pools = new Set((await io.drivers.zfs.poolList({ signal })).map((p) => p.name));
  const disks = new Map<string, DiskState | undefined>();
  for (const pool of spec.pools) {
    if (pools.has(pool.name)) continue;
    for (const disk of pool.disks) disks.set(disk, await readDisk(io.executor, disk, signal));
  }

  const datasets = new Map<string, Record<string, string> | undefined>();
  for (const ds of spec.datasets) {
    const keys = Object.keys(ds.properties);
    try {
      const props = await io.drivers.zfs.get(ds.name, keys.length > 0 ? keys : ['type'], { signal });
      datasets.set(ds.name, Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.value])));
    } catch (err) {
      if (!(isPhoenixError(err) && err.code === 'NOT_FOUND')) throw err;
      datasets.set(ds.name, undefined);
    }
  }

  const storages = new Map<string, StorageState | undefined>();
  const present = new Set((await io.drivers.pvesm.status({ signal })).map((s) => s.id));
  for (const st of spec.storages) {
    storages.set(st.id, present.has(st.id) ? await readStorage(io.drivers, st.id, signal) : undefined);
  }

  const paths = new Set<string>([HOST_FILES.arcMax, HOST_FILES.zfsModprobe, HOST_FILES.subuid, HOST_FILES.subgid, HOST_FILES.exports]);
  for (const p of spec.apparmorProfiles) paths.add(apparmorFile(p.name));
  const files = new Map<string, string | undefined>();
  for (const p of paths) files.set(p, await readText(join(io.hostRoot, p)));

  const loaded = new Set<string>();
  for (const line of (await readText(join(io.hostRoot, HOST_FILES.apparmorLoaded)))?.split('\n') ?? []) {
    const m = /^(.+?) \((\w+)\)$/.exec(line.trim());
    if (m?.[1]) loaded.add(m[1]);
  }

  const dirs = new Map<string, DirState | undefined>();
  for (const d of spec.directories) dirs.set(d.path, await readDir(join(io.hostRoot, d.path)));

  const firewall = new Map<FwLevelName, FwLevelState>();
  for (const level of ['cluster', 'host'] as const) {
    if (spec.firewall?.[level]) firewall.set(level, await readFirewall(io, level, signal));
  }

  return { pools, disks, datasets, storages, files, loadedProfiles: loaded, dirs, firewall };
}

export async function readFirewallRules(io: HostIo, rulesPath: string, signal: AbortSignal): Promise<FwRuleState[]> {
  const rules = await io.drivers.pvesh.get<Array<Record<string, unknown>> | null>(rulesPath, {}, { signal });
  return (rules ?? []).map(ruleFromApi);
}

async function readFirewall(io: HostIo, level: FwLevelName, signal: AbortSignal): Promise<FwLevelState> {
  const path = levelPath(level, io.node);
  const raw = (await io.drivers.pvesh.get<Record<string, unknown> | null>(`${path}/options`, {}, { signal })) ?? {};
  const options: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (k !== 'digest' && v !== undefined && v !== null) options[k] = String(v);
  return { path, options, rules: await readFirewallRules(io, `${path}/rules`, signal) };
}

interface LsblkDevice {
  path?: string;
  type?: string;
  fstype?: string | null;
  pttype?: string | null;
  label?: string | null;
  children?: LsblkDevice[];
}

/** lsblk exits 32 when no named device exists ("not a block device"). */
async function readDisk(executor: CommandExecutor, disk: string, signal: AbortSignal): Promise<DiskState | undefined> {
  const res = await executor.run({
    tool: 'lsblk',
    args: ['--json', '--paths', '--output', 'PATH,TYPE,FSTYPE,PTTYPE,LABEL', disk],
    mutating: false,
    allowNonZeroExit: true,
    signal,
  });
  if (res.exitCode === 32) return undefined;
  if (res.exitCode !== 0) throw new Error(`lsblk ${disk} exited ${res.exitCode}: ${res.stderr.trim()}`);
  const dev = (JSON.parse(res.stdout) as { blockdevices?: LsblkDevice[] }).blockdevices?.[0];
  if (!dev) return undefined;
  const signatures: string[] = [];
  if (dev.pttype) signatures.push(`${dev.pttype} partition table`);
  if (dev.fstype === 'zfs_member') signatures.push(`member of ZFS pool '${dev.label ?? '?'}'`);
  else if (dev.fstype) signatures.push(`${dev.fstype} file system`);
  const partitions = (dev.children ?? []).map((c) => `${c.path ?? '?'}${c.fstype ? ` (${c.fstype === 'zfs_member' ? `ZFS pool '${c.label ?? '?'}'` : c.fstype})` : ''}`);
  return { device: dev.path ?? disk, signatures, partitions };
}

async function readStorage(drivers: NodeDrivers, id: string, signal: AbortSignal): Promise<StorageState> {
  const raw = await drivers.pvesh.get<Record<string, unknown>>(`/storage/${id}`, {}, { signal });
  const options: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (!['storage', 'type', 'content', 'digest'].includes(k)) options[k] = String(v);
  const content = typeof raw['content'] === 'string' && raw['content'] !== '' ? raw['content'].split(',') : [];
  return { type: String(raw['type'] ?? ''), content, options };
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function readDir(path: string): Promise<DirState | undefined> {
  try {
    const s = await stat(path);
    return { uid: s.uid, gid: s.gid, mode: s.mode & 0o7777 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
