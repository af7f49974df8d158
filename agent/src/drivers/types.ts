/**
 * Driver interfaces: one per external tool, plus the raw LXC config editor and node facts, bundled
 * as NodeDrivers. The pipeline only sees these, so unit tests run it against fakes.
 */
import type { GuestConfig, RawLxcLine } from './parse-config.js';
import type { AvailableTemplate, PctListEntry, QmListEntry, SnapshotEntry, StorageStatus, TemplateFile } from './parse-pve.js';
import type { ZfsDataset, ZpoolInfo } from './parse-zfs.js';
import type { GpuSample } from './parse-nvidia.js';
import type { CallStats } from './run.js';

export type { GuestConfig, RawLxcLine, AvailableTemplate, PctListEntry, QmListEntry, SnapshotEntry, StorageStatus, TemplateFile };
export type { ZfsDataset, ZpoolInfo, GpuSample, CallStats };

/** Options every call accepts. */
export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Output lines as they arrive (task output, script output). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** API parameters as `--key value` pairs; booleans become 1/0. */
export type PveParams = Readonly<Record<string, string | number | boolean>>;

export type GuestRunState = 'running' | 'stopped' | 'paused' | 'unknown';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions extends CallOptions {
  input?: string;
  /**
   * Whether the command can change the guest. A probe (reading a file, a health check) is not
   * counted as a mutating call.
   */
  mutating: boolean;
}

export interface CloneOptions {
  snapname?: string;
  /** LXC: hostname; VM: name. */
  name?: string;
  full?: boolean;
  storage?: string;
  description?: string;
}

export interface DestroyOptions {
  /** pct only: stop a running CT first. */
  force?: boolean;
  purge?: boolean;
  destroyUnreferencedDisks?: boolean;
}

/** What `pct` and `qm` do alike, with the same arguments. */
export interface GuestToolDriver {
  /** Throws NotFoundError when the guest does not exist. */
  config(vmid: number, opts?: CallOptions & { snapshot?: string; current?: boolean }): Promise<GuestConfig>;
  status(vmid: number, opts?: CallOptions): Promise<GuestRunState>;
  clone(vmid: number, newid: number, options: CloneOptions, opts?: CallOptions): Promise<void>;
  /** One `set` with the given keys and `--delete` for the removed ones. */
  set(vmid: number, params: PveParams, deleteKeys: readonly string[], opts?: CallOptions): Promise<void>;
  /** `size` is absolute (`16G`) or relative (`+2G`). */
  resize(vmid: number, disk: string, size: string, opts?: CallOptions): Promise<void>;
  start(vmid: number, opts?: CallOptions): Promise<void>;
  stop(vmid: number, opts?: CallOptions): Promise<void>;
  shutdown(vmid: number, timeoutSeconds: number, forceStop: boolean, opts?: CallOptions): Promise<void>;
  destroy(vmid: number, options: DestroyOptions, opts?: CallOptions): Promise<void>;
  snapshot(vmid: number, name: string, description: string | undefined, opts?: CallOptions): Promise<void>;
  delsnapshot(vmid: number, name: string, opts?: CallOptions): Promise<void>;
  listSnapshots(vmid: number, opts?: CallOptions): Promise<SnapshotEntry[]>;
  rollback(vmid: number, name: string, start: boolean, opts?: CallOptions): Promise<void>;
  template(vmid: number, opts?: CallOptions): Promise<void>;
  unlock(vmid: number, opts?: CallOptions): Promise<void>;
}

export interface PctDriver extends GuestToolDriver {
  list(opts?: CallOptions): Promise<PctListEntry[]>;
  create(vmid: number, ostemplate: string, params: PveParams, opts?: CallOptions): Promise<void>;
  exec(vmid: number, command: readonly string[], opts: ExecOptions): Promise<ExecResult>;
  push(vmid: number, localFile: string, destination: string, options: { perms?: string }, opts?: CallOptions): Promise<void>;
}

export interface QmDriver extends GuestToolDriver {
  list(opts?: CallOptions): Promise<QmListEntry[]>;
  create(vmid: number, params: PveParams, opts?: CallOptions): Promise<void>;
  importDisk(vmid: number, source: string, storage: string, opts?: CallOptions): Promise<void>;
  cloudinitUpdate(vmid: number, opts?: CallOptions): Promise<void>;
  /** Resolves when the guest agent answers; throws otherwise. */
  agentPing(vmid: number, opts?: CallOptions): Promise<void>;
  guestExec(vmid: number, command: readonly string[], opts: ExecOptions & { timeoutSeconds?: number }): Promise<ExecResult>;
}

export interface PveshDriver {
  get<T = unknown>(path: string, params?: PveParams, opts?: CallOptions): Promise<T>;
  create<T = unknown>(path: string, params?: PveParams, opts?: CallOptions): Promise<T>;
  set<T = unknown>(path: string, params?: PveParams, opts?: CallOptions): Promise<T>;
  delete<T = unknown>(path: string, params?: PveParams, opts?: CallOptions): Promise<T>;
  /** Lowest free VMID (`/cluster/nextid`, which prints a quoted string). */
  nextId(opts?: CallOptions): Promise<number>;
}

export interface PvesmDriver {
  status(opts?: CallOptions): Promise<StorageStatus[]>;
  add(type: string, id: string, params: PveParams, opts?: CallOptions): Promise<void>;
  set(id: string, params: PveParams, opts?: CallOptions): Promise<void>;
  remove(id: string, opts?: CallOptions): Promise<void>;
  /** `pvesm path <volid>`: the file system path of a volume. */
  path(volid: string, opts?: CallOptions): Promise<string>;
  /** `pvesm free <volid>`: removes a volume. */
  free(volid: string, opts?: CallOptions): Promise<void>;
}

export interface ZfsDriver {
  list(root?: string, options?: { recursive?: boolean; types?: readonly string[] }, opts?: CallOptions): Promise<ZfsDataset[]>;
  /** Properties of one dataset; NotFoundError when it does not exist. */
  get(dataset: string, properties: readonly string[], opts?: CallOptions): Promise<Record<string, { value: string; source: string }>>;
  create(dataset: string, properties: Readonly<Record<string, string>>, opts?: CallOptions): Promise<void>;
  set(dataset: string, properties: Readonly<Record<string, string>>, opts?: CallOptions): Promise<void>;
  poolList(opts?: CallOptions): Promise<ZpoolInfo[]>;
}

export interface PveamDriver {
  list(storage: string, opts?: CallOptions): Promise<TemplateFile[]>;
  available(section?: string, opts?: CallOptions): Promise<AvailableTemplate[]>;
  update(opts?: CallOptions): Promise<void>;
  download(storage: string, template: string, opts?: CallOptions): Promise<void>;
}

export interface NvidiaSmiDriver {
  /** One `--query-gpu` call; empty when the node has no NVIDIA driver or GPU. */
  queryGpus(opts?: CallOptions): Promise<GpuSample[]>;
  /** Driver and CUDA version from the summary header. */
  versions(opts?: CallOptions): Promise<{ driverVersion: string | undefined; cudaVersion: string | undefined }>;
}

/** Raw `lxc.*` lines live only in the config file: the API cannot set them. */
export interface LxcConfigFile {
  /** The raw lines of the live config section (snapshot sections are never touched). */
  readRaw(vmid: number): Promise<RawLxcLine[]>;
  /** Replaces the live section's raw lines with `lines`, in this order. */
  writeRaw(vmid: number, lines: readonly RawLxcLine[]): Promise<void>;
}

export interface DeviceNodeFact {
  path: string;
  major: number;
  minor: number;
}

export interface NvidiaFacts {
  /** Kernel driver version, undefined without a driver. */
  driverVersion: string | undefined;
  /** /dev/nvidia* character devices with their numbers, read from the node. */
  devices: DeviceNodeFact[];
  /** GPU PCI address (normalised, see normalizeBusId) → /dev/nvidia<minor>, from /proc/driver/nvidia/gpus. */
  minorsByBusId: Record<string, number>;
}

export interface NodeFactsReader {
  nvidia(): Promise<NvidiaFacts>;
}

export interface NodeDrivers {
  node: string;
  pct: PctDriver;
  qm: QmDriver;
  pvesh: PveshDriver;
  pvesm: PvesmDriver;
  zfs: ZfsDriver;
  pveam: PveamDriver;
  nvidia: NvidiaSmiDriver;
  lxcConf: LxcConfigFile;
  facts: NodeFactsReader;
  /** Counts of calls made so far (mutating vs read-only). */
  stats(): CallStats;
}
