import path from 'node:path';
import { readJson, writeJson } from './atomic-file.js';
import type { EmuEnv } from './env.js';
import { EmulatorError } from './errors.js';
import { withLock } from './lock.js';
import { Clock } from './timing.js';

/** Facts about the emulated host, kept in `$PVE_EMU_STATE/node.json`. */
export interface NodeFacts {
  name: string;
  cpus: number;
  sockets: number;
  cpuModel: string;
  memoryMb: number;
  swapMb: number;
  bridges: string[];
  /** Epoch seconds of the emulated boot. */
  bootTime: number;
  rootfsBytes: number;
  pveVersion: string;
  kernelRelease: string;
  kernelVersion: string;
  /** Lower/upper bound of `/cluster/nextid` (datacenter.cfg next-id). */
  nextId: { lower: number; upper: number };
}

/** One entry of the emulated storage.cfg. */
export interface StorageDef {
  type: string;
  content: string[];
  /** All other storage.cfg properties (path, pool, server, export, shared, disable, ...). */
  props: Record<string, string | number>;
  /** Emulated capacity in bytes for storages that are not backed by an emulated zpool. */
  totalBytes?: number;
}

export interface StorageConfig {
  ids: string[];
  storages: Record<string, StorageDef>;
}

export class State {
  readonly clock: Clock;
  constructor(readonly env: EmuEnv) {
    this.clock = new Clock(env.timeScale);
  }

  get dir(): string {
    return this.env.stateDir;
  }
  get node(): string {
    return this.env.node;
  }
  file(...rel: string[]): string {
    return path.join(this.env.stateDir, ...rel);
  }
  get nodeFile(): string {
    return this.file('node.json');
  }
  get storageFile(): string {
    return this.file('storage.json');
  }
  get zfsFile(): string {
    return this.file('zfs.json');
  }
  get volumesFile(): string {
    return this.file('volumes.json');
  }
  get callsLog(): string {
    return this.file('calls.log');
  }
  get faultsFile(): string {
    return this.file('faults.json');
  }
  get faultStateFile(): string {
    return this.file('fault-state.json');
  }
  confFile(type: GuestType, vmid: number | string): string {
    return this.file(type === 'lxc' ? 'lxc' : 'qemu-server', `${vmid}.conf`);
  }
  runFile(type: GuestType, vmid: number | string): string {
    return this.file('run', `${type}-${vmid}.json`);
  }
  guestDir(vmid: number | string): string {
    return this.file('guests', String(vmid));
  }
  lockDir(name: string): string {
    return this.file('locks', name);
  }
  defaultLocalPath(): string {
    return this.file('storage', 'local');
  }

  /** Serialises read-modify-write of the emulator's JSON state (not a PVE-visible lock). */
  async withStateLock<T>(fn: () => Promise<T> | T): Promise<T> {
    return withLock(this.lockDir('state'), { timeoutMs: 60_000 }, fn);
  }

  readNode(): NodeFacts {
    const facts = readJson<NodeFacts | undefined>(this.nodeFile, undefined);
    if (!facts) throw new EmulatorError('EMU_NOT_INITIALISED', `node state '${this.dir}' is not initialised`);
    return facts;
  }
  readStorageConfig(): StorageConfig {
    return readJson<StorageConfig>(this.storageFile, { ids: [], storages: {} });
  }
  writeStorageConfig(cfg: StorageConfig): void {
    writeJson(this.storageFile, cfg);
  }
}

export type GuestType = 'lxc' | 'qemu';

export const DEFAULT_DIR_BYTES = 100 * 1024 ** 3;
