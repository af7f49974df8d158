/**
 * The node's guests and storages for telemetry from one `pvesh get /cluster/resources` call
 * (docs/reference/proxmox-cli.md §4) instead of one call per guest kind plus `pvesm status` and the
 * storage list: each real call is a Perl process costing 0.3–0.5 s of CPU. The answer comes from
 * pmxcfs and pvestatd's RRD samples, so it never touches a storage (a hung NFS mount cannot block
 * it), and one answer serves both the guest and the storage loop.
 *
 * Its guest status lags real state by up to pvestatd's 10 s period. So for a while after the agent's
 * own changes, and whenever a guest has no sample yet (status "unknown"), guests come from the live
 * lister (`/nodes/<node>/{lxc,qemu}`) instead.
 */
import { commonv1 } from '@phoenix/shared';
import type { PveshDriver } from '../drivers/index.js';

/** pvestatd's update period plus a margin: after this, /cluster/resources reflects a change. */
export const RRD_SETTLE_MS = 15_000;
/** A bound on the call; the executor kills the process group when it is over. */
export const RESOURCES_TIMEOUT_MS = 30_000;

/** One entry of `/cluster/resources` (PM API2/Cluster.pm `resources`); only the fields used here. */
interface ClusterResource {
  type?: string;
  node?: string;
  vmid?: number | string;
  name?: string;
  status?: string;
  template?: number | string;
  lock?: string;
  maxcpu?: number;
  maxmem?: number;
  mem?: number;
  maxdisk?: number;
  disk?: number;
  uptime?: number;
  tags?: string;
  storage?: string;
  plugintype?: string;
  content?: string;
  shared?: number | string;
}

export interface NodeInventoryOptions {
  node: string;
  pvesh: PveshDriver;
  /** The live per-kind listing, for the settle window after changes. */
  liveGuests(signal: AbortSignal): Promise<commonv1.GuestSummary[]>;
  /** How old an answer the storage loop may reuse: about the guest interval. */
  reuseMs: number;
  settleMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

interface Answer {
  at: number;
  rows: ClusterResource[];
}

/** Guest status words of Proxmox; anything else (e.g. "unknown") is UNKNOWN. */
const GUEST_STATUS = new Map<string, commonv1.GuestStatus>([
  ['running', commonv1.GuestStatus.RUNNING],
  ['stopped', commonv1.GuestStatus.STOPPED],
  ['paused', commonv1.GuestStatus.PAUSED],
  ['suspended', commonv1.GuestStatus.PAUSED],
]);

function toGuest(r: ClusterResource): commonv1.GuestSummary {
  return {
    vmid: Number(r.vmid),
    type: r.type === 'lxc' ? commonv1.GuestType.LXC : commonv1.GuestType.VM,
    name: r.name ?? '',
    status: GUEST_STATUS.get(r.status ?? '') ?? commonv1.GuestStatus.UNKNOWN,
    template: Number(r.template ?? 0) === 1,
    lock: r.lock ?? '',
    cpus: Math.round(r.maxcpu ?? 0),
    maxMemoryBytes: r.maxmem ?? 0,
    memoryBytes: r.mem ?? 0,
    maxDiskBytes: r.maxdisk ?? 0,
    uptimeSeconds: r.uptime ?? 0,
    snapshots: [],
    tags: (r.tags ?? '').split(/[;, ]+/).filter(Boolean),
  };
}

function toStorage(r: ClusterResource): commonv1.Storage {
  const total = r.maxdisk ?? 0;
  const used = r.disk ?? 0;
  return {
    id: r.storage ?? '',
    type: r.plugintype ?? '',
    content: (r.content ?? '').split(',').filter((c) => c !== ''),
    // pvestatd reports total and used only; what is free is the rest.
    active: r.status === 'available',
    shared: Number(r.shared ?? 0) === 1,
    totalBytes: total,
    usedBytes: used,
    availableBytes: Math.max(0, total - used),
  };
}

export class NodeInventory {
  private last: Answer | undefined;
  private inFlight: Promise<Answer> | undefined;
  private changedAt = -Infinity;
  private readonly now: () => number;

  constructor(private readonly o: NodeInventoryOptions) {
    this.now = o.now ?? Date.now;
  }

  /** The agent changed a guest: list guests live until pvestatd has caught up. */
  changed(): void {
    this.changedAt = this.now();
  }

  async listGuests(signal: AbortSignal): Promise<commonv1.GuestSummary[]> {
    if (this.now() - this.changedAt < (this.o.settleMs ?? RRD_SETTLE_MS)) return this.o.liveGuests(signal);
    const rows = (await this.fetch(signal)).rows.filter((r) => (r.type === 'lxc' || r.type === 'qemu') && r.node === this.o.node);
    // Without an RRD sample an entry has no name or figures yet.
    if (rows.some((r) => r.status === 'unknown')) return this.o.liveGuests(signal);
    return rows.map(toGuest).sort((a, b) => a.vmid - b.vmid);
  }

  async listStorages(signal: AbortSignal): Promise<commonv1.Storage[]> {
    const answer = this.last && this.now() - this.last.at <= this.o.reuseMs ? this.last : await this.fetch(signal);
    return answer.rows
      .filter((r) => r.type === 'storage' && r.node === this.o.node)
      .map(toStorage)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** One call at a time: a loop that asks while another's call runs shares its answer. */
  private fetch(signal: AbortSignal): Promise<Answer> {
    this.inFlight ??= this.o.pvesh
      .get<ClusterResource[]>('/cluster/resources', {}, { signal, timeoutMs: this.o.timeoutMs ?? RESOURCES_TIMEOUT_MS })
      .then((rows) => {
        this.last = { at: this.now(), rows: rows ?? [] };
        return this.last;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}
