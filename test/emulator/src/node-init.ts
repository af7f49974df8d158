import fs from 'node:fs';
import path from 'node:path';
import { writeJson } from './core/atomic-file.js';
import { EmulatorError } from './core/errors.js';
import type { NodeFacts, State, StorageConfig, StorageDef } from './core/state.js';
import { initZfs, type InitPool } from './zfs/model.js';
import { saveDisks, type InitDisk } from './host/disks.js';
import { initHostFiles } from './host/host-files.js';

/** First use of a node's state directory: host facts, storage.cfg and ZFS pools. */

export interface InitStorage {
  id: string;
  type: string;
  content: string[] | string;
  totalBytes?: number;
  [prop: string]: unknown;
}

/** Node overrides applied on first use (env `PVE_EMU_INIT`, or the typed API). */
export interface NodeInit {
  cpus?: number;
  sockets?: number;
  memoryMb?: number;
  bridges?: string[];
  /** Replaces the default storages (local, local-zfs). */
  storages?: InitStorage[];
  /** Added to the default storages. */
  extraStorages?: InitStorage[];
  zpools?: InitPool[];
  rootfsBytes?: number;
  /** Block devices of the node (for lsblk and zpool create); none declared accepts any /dev path. */
  disks?: InitDisk[];
}

export function defaultStorages(localPath: string): InitStorage[] {
  return [
    { id: 'local', type: 'dir', path: localPath, content: ['iso', 'vztmpl', 'backup', 'snippets'] },
    { id: 'local-zfs', type: 'zfspool', pool: 'rpool/data', sparse: 1, content: ['images', 'rootdir'] },
  ];
}

function num(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new EmulatorError('EMU_BAD_INIT', `${name} must be a positive integer, got '${raw}'`);
  return n;
}

/** Node overrides from the environment: PVE_EMU_INIT (JSON), PVE_EMU_CPUS, PVE_EMU_MEMORY_MB. */
export function initFromEnv(env: NodeJS.ProcessEnv = process.env): NodeInit {
  let init: NodeInit = {};
  const raw = env['PVE_EMU_INIT'];
  if (raw) {
    try {
      init = JSON.parse(raw) as NodeInit;
    } catch (err) {
      throw new EmulatorError('EMU_BAD_INIT', 'PVE_EMU_INIT is not valid JSON', err);
    }
  }
  const cpus = num(env['PVE_EMU_CPUS'], 'PVE_EMU_CPUS');
  const memoryMb = num(env['PVE_EMU_MEMORY_MB'], 'PVE_EMU_MEMORY_MB');
  if (cpus !== undefined) init.cpus = cpus;
  if (memoryMb !== undefined) init.memoryMb = memoryMb;
  return init;
}

export function storageDefFromInit(s: InitStorage): StorageDef {
  const props: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'id' || k === 'type' || k === 'content' || k === 'totalBytes') continue;
    if (typeof v === 'string' || typeof v === 'number') props[k] = v;
    else if (typeof v === 'boolean') props[k] = v ? 1 : 0;
  }
  const content = Array.isArray(s.content) ? s.content : String(s.content).split(/[,;\s]+/).filter(Boolean);
  const def: StorageDef = { type: s.type, content, props };
  if (s.totalBytes !== undefined) def.totalBytes = s.totalBytes;
  return def;
}

/** Creates the state directory on first use. Safe against concurrent first invocations. */
export async function ensureInitialized(state: State, init: NodeInit): Promise<void> {
  if (fs.existsSync(state.nodeFile)) return;
  fs.mkdirSync(state.dir, { recursive: true });
  await state.withStateLock(() => {
    if (fs.existsSync(state.nodeFile)) return;
    for (const d of ['lxc', 'qemu-server', 'run', 'guests', 'locks', 'tasks']) fs.mkdirSync(state.file(d), { recursive: true });
    const storages = init.storages ?? [...defaultStorages(state.defaultLocalPath()), ...(init.extraStorages ?? [])];
    const cfg: StorageConfig = { ids: [], storages: {} };
    for (const s of storages) {
      cfg.ids.push(s.id);
      // Relative storage paths live inside the node's state directory.
      const resolved = typeof s['path'] === 'string' && !path.isAbsolute(s['path']) ? { ...s, path: state.file(s['path']) } : s;
      cfg.storages[s.id] = storageDefFromInit(resolved);
      const p = cfg.storages[s.id]?.props['path'];
      if (typeof p === 'string' && cfg.storages[s.id]?.type !== 'zfspool') fs.mkdirSync(p, { recursive: true });
    }
    state.writeStorageConfig(cfg);
    initZfs(state, cfg, init.zpools ?? []);
    initHostFiles(state);
    if (init.disks) saveDisks(state, { disks: init.disks });
    const now = Math.floor(Date.now() / 1000);
    const facts: NodeFacts = {
      name: state.node,
      cpus: init.cpus ?? 16,
      sockets: init.sockets ?? 1,
      cpuModel: 'AMD EPYC 7302P 16-Core Processor',
      memoryMb: init.memoryMb ?? 65536,
      swapMb: 8192,
      bridges: init.bridges ?? ['vmbr0'],
      bootTime: now - 3600,
      rootfsBytes: init.rootfsBytes ?? 100 * 1024 ** 3,
      pveVersion: 'pve-manager/9.1.1/42db4a6cf33dac83',
      kernelRelease: '6.17.2-1-pve',
      kernelVersion: '#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)',
      nextId: { lower: 100, upper: 1_000_000 },
    };
    writeJson(state.nodeFile, facts);
  });
}
