/**
 * Node resources for telemetry and GetNodeInfo. Static facts (CPU model and count, memory size)
 * are read once; each sample reads memory and CPU load through systeminformation (which reads
 * /proc and os.cpus() without spawning anything). CPU facts come from os.cpus() rather than
 * `si.cpu()`, which runs lscpu through a shell.
 */
import { cpus, loadavg, uptime } from 'node:os';
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

export class NodeResources {
  private facts: Promise<StaticFacts> | undefined;

  staticFacts(): Promise<StaticFacts> {
    this.facts ??= si.mem().then((mem) => {
      const list = cpus();
      return { cpus: list.length, cpuModel: list[0]?.model.trim() ?? 'unknown', memoryTotalBytes: mem.total };
    });
    return this.facts;
  }

  async sample(): Promise<ResourceSample> {
    const [mem, load] = await Promise.all([si.mem(), si.currentLoad()]);
    const [load1 = 0, load5 = 0, load15 = 0] = loadavg();
    return {
      cpuUsage: Math.min(1, Math.max(0, load.currentLoad / 100)),
      load1,
      load5,
      load15,
      memoryTotalBytes: mem.total,
      // `used` counts page cache; what guests compete for is total minus available.
      memoryUsedBytes: Math.max(0, mem.total - mem.available),
      memoryAvailableBytes: mem.available,
      uptimeSeconds: Math.floor(uptime()),
    };
  }
}
