/** What every pipeline operation shares: drivers, settings, and the in-flight registry. */
import type { Logger } from '@phoenix/shared';
import type { NodeDrivers } from '../drivers/types.js';
import type { GpuMode } from './gpu.js';
import type { PipelineOptions, PipelineTiming } from './types.js';

/**
 * VMIDs this process is acting on right now (a clone counts for source and target). A PVE lock
 * on such a VMID belongs to a live operation; a lock on any other VMID, when the daemon knows no
 * operation for it either, was left by a process that died.
 */
export class InflightRegistry {
  private readonly counts = new Map<number, number>();

  has(vmid: number): boolean {
    return (this.counts.get(vmid) ?? 0) > 0;
  }

  async track<T>(vmids: readonly number[], fn: () => Promise<T>): Promise<T> {
    for (const v of vmids) this.counts.set(v, (this.counts.get(v) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      for (const v of vmids) {
        const n = (this.counts.get(v) ?? 1) - 1;
        if (n <= 0) this.counts.delete(v);
        else this.counts.set(v, n);
      }
    }
  }
}

export interface PipelineContext {
  d: NodeDrivers;
  log: Logger;
  node: string;
  featuresDir: string;
  timing: PipelineTiming;
  gpuMode: GpuMode;
  inflight: InflightRegistry;
  depsIsActive: ((vmid: number) => boolean) | undefined;
}

export function isActive(c: PipelineContext, vmid: number, o?: Pick<PipelineOptions, 'isOperationActive'>): boolean {
  if (c.inflight.has(vmid)) return true;
  const fn = o?.isOperationActive ?? c.depsIsActive;
  return fn ? fn(vmid) : false;
}

/** Call options for drivers from pipeline options. */
export function sig(o: { signal?: AbortSignal } | undefined): { signal?: AbortSignal } {
  return o?.signal ? { signal: o.signal } : {};
}
