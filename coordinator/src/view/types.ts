/**
 * The cluster view: what the coordinator believes about every node, built from agent telemetry (or
 * read from a file). Plain immutable data; every update returns a new view.
 */

export type StorageContent = 'images' | 'rootdir' | 'iso' | 'vztmpl' | 'backup' | 'snippets';

export interface GpuView {
  readonly index: number;
  /** As nvidia-smi names it, e.g. "NVIDIA H100 80GB HBM3". */
  readonly model: string;
  readonly uuid: string | undefined;
  readonly memoryTotalMiB: number;
  readonly memoryFreeMiB: number;
  readonly utilizationPct: number;
}

export interface StorageView {
  readonly id: string;
  readonly type: string;
  readonly totalGiB: number;
  readonly freeGiB: number;
  readonly content: readonly StorageContent[];
  /** Shared storages (NFS, Ceph) are one pool seen from several nodes. */
  readonly shared: boolean;
  readonly active: boolean;
}

export type GuestType = 'lxc' | 'qemu';
export type GuestStatus = 'running' | 'stopped' | 'paused' | 'unknown';

export interface GuestView {
  readonly vmid: number;
  readonly name: string | undefined;
  readonly type: GuestType;
  readonly status: GuestStatus;
  /** A Proxmox template (qm/pct template): cannot run, only be cloned. */
  readonly template: boolean;
  readonly snapshots: readonly string[];
  readonly cores: number;
  readonly memoryMiB: number;
  readonly diskGiB: number;
  readonly storage: string | undefined;
  /** GPU indices bound to the guest. */
  readonly gpus: readonly number[];
  /** pci passthrough: the GPUs are the guest's alone. */
  readonly gpuExclusive: boolean;
  /** Anti-affinity groups the guest belongs to (from the spec that created it). */
  readonly groups: readonly string[];
}

export interface NodeView {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly cpu: { readonly cores: number; readonly usagePct: number | undefined; readonly reservedCores: number };
  readonly memory: { readonly totalMiB: number; readonly usedMiB: number | undefined; readonly reservedMiB: number };
  readonly storages: readonly StorageView[];
  readonly gpus: readonly GpuView[];
  readonly guests: readonly GuestView[];
  /** OS template files and cloud images present on the node's storages. */
  readonly osTemplates: readonly string[];
  /** Epoch milliseconds of the last sign of life (heartbeat or any telemetry). */
  readonly lastHeartbeat: number | undefined;
  /** Set by a view file that states the status outright, or "down" for a drained node; telemetry leaves it unset. */
  readonly statusOverride: 'up' | 'down' | undefined;
  /** Epoch milliseconds of the newest sample of each kind, to drop out-of-order messages. */
  readonly sampledAt: { readonly node: number; readonly gpu: number; readonly guests: number };
}

export interface ClusterView {
  readonly cluster: string | undefined;
  /** "Now" for this view, epoch milliseconds: liveness is judged against it. */
  readonly observedAt: number;
  readonly heartbeatIntervalMs: number;
  /** A node is down after this many intervals of silence. */
  readonly missedHeartbeats: number;
  /** Sorted by name. */
  readonly nodes: readonly NodeView[];
}
