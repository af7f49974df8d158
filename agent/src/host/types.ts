/**
 * Host setup as data: what the node looks like now (`ObservedHost`, read by observe.ts), and the
 * complete list of actions that converge it to a `HostSpec` (`HostPlan`, made by plan.ts).
 * Paths are as the node sees them (`/etc/subuid`); the host root is added only where files are touched.
 */
import type { ToolName } from '../drivers/index.js';

/** What `lsblk` says is on a disk. */
export interface DiskState {
  /** The kernel path the disk resolves to, e.g. /dev/nvme0n1. */
  device: string;
  /** Partition table, file system or pool label found, in lsblk's words ("gpt partition table"). */
  signatures: string[];
  /** Partitions on the disk. */
  partitions: string[];
}

export interface StorageState {
  type: string;
  content: string[];
  /** Every other storage.cfg property as text. */
  options: Record<string, string>;
}

export interface DirState {
  uid: number;
  gid: number;
  mode: number;
}

export interface ObservedHost {
  pools: ReadonlySet<string>;
  /** Disks of the pools still to be created; `undefined` when the device does not exist. */
  disks: ReadonlyMap<string, DiskState | undefined>;
  /** Spec datasets: their properties (zfs get -p values), `undefined` when missing. */
  datasets: ReadonlyMap<string, Readonly<Record<string, string>> | undefined>;
  storages: ReadonlyMap<string, StorageState | undefined>;
  /** Managed files: content, `undefined` when missing. */
  files: ReadonlyMap<string, string | undefined>;
  /** AppArmor profiles loaded in the kernel. */
  loadedProfiles: ReadonlySet<string>;
  dirs: ReadonlyMap<string, DirState | undefined>;
  /** The firewall levels the spec names; empty when it names none. */
  firewall: ReadonlyMap<FwLevelName, FwLevelState>;
}

export type FwLevelName = 'cluster' | 'host';

/** A firewall rule as the API returns it, every property as text; position, digest and ipversion left out. */
export type FwRuleState = Readonly<Record<string, string>>;

export interface FwLevelState {
  /** API path of the level: /cluster/firewall, /nodes/<node>/firewall. */
  path: string;
  options: Readonly<Record<string, string>>;
  rules: readonly FwRuleState[];
}

interface ActionBase {
  /** Step name in the progress stream, e.g. `pool:quickOS`. */
  step: string;
  /** One line for people. */
  summary: string;
}

/** Checked right before a firewall rule call: the level's rules are still the ones its positions were planned on. */
export interface FwRulesGuard {
  path: string;
  rules: readonly FwRuleState[];
}

export type HostAction =
  | (ActionBase & { kind: 'command'; tool: ToolName; args: string[]; guard?: FwRulesGuard })
  /** A whole-file write: atomic (temp file + rename), the old content backed up first. */
  | (ActionBase & { kind: 'file'; path: string; before: string | undefined; after: string })
  /** A kernel parameter file (sysfs): written in place, it cannot be renamed over. */
  | (ActionBase & { kind: 'sysfs'; path: string; value: string })
  | (ActionBase & { kind: 'dir'; path: string; create: boolean; uid: number; gid: number; mode: number | undefined });

/** Found but left alone: changing it is not safe, or not this setup's call. */
export interface HostDrift {
  step: string;
  message: string;
}

/** A pool that would destroy data: the whole run is refused before anything changes. */
export interface HostRefusal {
  pool: string;
  disk: string;
  reason: string;
}

export interface HostPlan {
  actions: HostAction[];
  /** Steps already as specified. */
  converged: string[];
  drift: HostDrift[];
  refusals: HostRefusal[];
}

/** Files host setup manages, as the node sees them. */
export const HOST_FILES = {
  subuid: '/etc/subuid',
  subgid: '/etc/subgid',
  exports: '/etc/exports',
  zfsModprobe: '/etc/modprobe.d/zfs.conf',
  arcMax: '/sys/module/zfs/parameters/zfs_arc_max',
  apparmorLoaded: '/sys/kernel/security/apparmor/profiles',
} as const;

export function apparmorFile(name: string): string {
  return `/etc/apparmor.d/${name}`;
}
