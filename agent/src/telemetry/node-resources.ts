/**
 * Node resources for telemetry and GetNodeInfo. Static facts (CPU model and count, memory size)
 * are read once; each sample reads memory through systeminformation (/proc/meminfo on Linux).
 * CPU usage is the delta of os.cpus() times between samples, and CPU facts come from os.cpus():
 * systeminformation's `currentLoad()` runs `cat /proc/stat | grep cpu` through a shell,
 * synchronously, on every call, and `cpu()` runs lscpu through one.
 */
import { cpus, loadavg, uptime, type CpuInfo } from 'node:os';
import si from 'systeminformation';

export interface StaticFacts {
  cpus: number;
  cpuModel: string;
  memoryTotalBytes: number;
}

export interface ResourceSample {
  /** 0..1 since the previous sample. */
  cpuUsage: number;
  load1: number;
  load5: number;
  load15: number;
  memoryTotalBytes: number;
  memoryUsedBytes: number;
  memoryAvailableBytes: number;
  uptimeSeconds: number;
}

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(list: CpuInfo[]): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of list) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/** What Proxmox reports of its node (`pvesh get /nodes/<node>/status`): the capacity guests get. */
export type PveNodeStatus = () => Promise<{ cpus: number; cpuModel: string; memoryTotalBytes: number } | undefined>;

export class NodeResources {
  private facts: Promise<StaticFacts> | undefined;
  private lastCpu: CpuTimes = cpuTimes(cpus());

  /** `pveStatus` wins over the host's own counts when it answers: it is what `pct`/`qm` can hand out. */
  constructor(private readonly pveStatus?: PveNodeStatus) {}

  staticFacts(): Promise<StaticFacts> {
    this.facts ??= Promise.all([si.mem(), this.pveStatus?.().catch(() => undefined)]).then(([mem, pve]) => {
      const list = cpus();
      if (pve && pve.cpus > 0 && pve.memoryTotalBytes > 0) return pve;
      return { cpus: list.length, cpuModel: list[0]?.model.trim() ?? 'unknown', memoryTotalBytes: mem.total };
    });
    return this.facts;
  }

  async sample(): Promise<ResourceSample> {
    const [mem, facts] = await Promise.all([si.mem(), this.staticFacts()]);
    const total = Math.max(facts.memoryTotalBytes, 1);
    const used = Math.min(Math.max(0, mem.total - mem.available), total);
    const [load1 = 0, load5 = 0, load15 = 0] = loadavg();
    const now = cpuTimes(cpus());
    const span = now.total - this.lastCpu.total;
    const cpuUsage = span > 0 ? (now.busy - this.lastCpu.busy) / span : 0;
    this.lastCpu = now;
    return {
      cpuUsage: Math.min(1, Math.max(0, cpuUsage)),
      load1,
      load5,
      load15,
      memoryTotalBytes: total,
      // `used` counts page cache; what guests compete for is total minus available.
      memoryUsedBytes: used,
      memoryAvailableBytes: total - used,
      uptimeSeconds: Math.floor(uptime()),
    };
  }
}
