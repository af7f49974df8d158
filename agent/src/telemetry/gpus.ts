/**
 * GPUs as the API and telemetry show them, from ONE long-lived `nvidia-smi` sampling process (the
 * drivers' GpuSampler) rather than a spawn per sample. Without a sample yet (or without the
 * sampler), a one-shot query answers GetNodeInfo/ListGpus.
 *
 * Numbered as the rest of the agent numbers them (drivers/gpu-numbering.ts): a GPU a VM took by
 * passthrough is gone from nvidia-smi but stays in the list under its index, fully used, so the
 * coordinators never see the other GPUs renumbered or the taken one free.
 */
import { access, constants } from 'node:fs/promises';
import { commonv1, isPhoenixError, type Logger } from '@phoenix/shared';
import { GpuSampler, type CommandExecutor, type GpuSample, type NvidiaSmiDriver } from '../drivers/index.js';
import { gpuNumbering, pciAddress } from '../drivers/gpu-numbering.js';
import type { GpuSource } from './publisher.js';

export function toProtoGpu(sample: GpuSample, cudaVersion: string): commonv1.Gpu {
  return {
    index: sample.index,
    uuid: sample.uuid,
    name: sample.name,
    pciBusId: sample.pciBusId,
    memoryTotalMib: sample.memoryTotalMib ?? 0,
    memoryUsedMib: sample.memoryUsedMib ?? 0,
    memoryFreeMib: sample.memoryFreeMib ?? 0,
    utilizationGpuPercent: sample.utilizationGpuPercent ?? 0,
    utilizationMemoryPercent: sample.utilizationMemoryPercent ?? 0,
    temperatureC: sample.temperatureC ?? 0,
    powerDrawW: sample.powerDrawW ?? 0,
    powerLimitW: sample.powerLimitW ?? 0,
    driverVersion: sample.driverVersion,
    cudaVersion,
  };
}

/**
 * The node's GPUs in the agent's numbering: `listed` as nvidia-smi reports them now, plus the
 * `passedThrough` devices it no longer lists (shown as last seen in `seen`, with no memory free).
 */
export function numberGpus(listed: readonly commonv1.Gpu[], passedThrough: ReadonlySet<string>, seen: ReadonlyMap<string, commonv1.Gpu>): commonv1.Gpu[] {
  const byAddress = new Map(listed.map((g) => [pciAddress(g.pciBusId), g]));
  return gpuNumbering(listed.map((g) => ({ index: g.index, busId: g.pciBusId })), passedThrough).map((address, index) => {
    const live = byAddress.get(address);
    if (live) return { ...live, index };
    const last = seen.get(address);
    const total = last?.memoryTotalMib ?? 0;
    return {
      ...(last ?? commonv1.Gpu.fromPartial({ name: 'passed through to a VM', pciBusId: address })),
      index,
      memoryUsedMib: total,
      memoryFreeMib: 0,
      utilizationGpuPercent: 0,
      utilizationMemoryPercent: 0,
      powerDrawW: 0,
    };
  });
}

export interface GpuInventoryOptions {
  executor: CommandExecutor;
  nvidia: NvidiaSmiDriver;
  nvidiaSmiPath: string;
  intervalMs: number;
  log: Logger;
  /** PCI addresses the node's VMs pass through (read at start and after the agent's own changes). */
  passedThrough?: (signal?: AbortSignal) => Promise<ReadonlySet<string>>;
}

export class GpuInventory implements GpuSource {
  private sampler: GpuSampler | undefined;
  private cudaVersion = '';
  private passedThrough: ReadonlySet<string> = new Set();
  /** Last sample of every GPU by PCI address, for the ones a VM takes later. */
  private readonly seen = new Map<string, commonv1.Gpu>();

  constructor(private readonly options: GpuInventoryOptions) {}

  /** Starts the sampler when the node has nvidia-smi; a node without it simply reports no GPUs. */
  async start(): Promise<void> {
    const { nvidiaSmiPath, log } = this.options;
    const present = await access(nvidiaSmiPath, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (!present) {
      log.info({ path: nvidiaSmiPath }, 'no nvidia-smi on this node: GPU telemetry stays empty');
      return;
    }
    this.options.nvidia.versions().then(
      (v) => (this.cudaVersion = v.cudaVersion ?? ''),
      (err: unknown) => log.warn({ err }, 'reading the CUDA version failed'),
    );
    this.sampler = new GpuSampler({
      executor: this.options.executor,
      intervalMs: this.options.intervalMs,
      logger: log,
      onError: (message) => log.warn({ detail: message }, 'GPU sampler problem'),
    });
    this.sampler.start();
    await this.refreshPassthrough();
  }

  /** Re-reads which devices VMs pass through; the daemon calls it after each operation. */
  async refreshPassthrough(signal?: AbortSignal): Promise<void> {
    if (!this.options.passedThrough || !this.sampler) return;
    try {
      this.passedThrough = await this.options.passedThrough(signal);
    } catch (err) {
      this.options.log.warn({ err }, 'reading the GPUs passed through to VMs failed; keeping the last answer');
    }
  }

  private numbered(listed: commonv1.Gpu[]): commonv1.Gpu[] {
    for (const g of listed) this.seen.set(pciAddress(g.pciBusId), g);
    return numberGpus(listed, this.passedThrough, this.seen);
  }

  async stop(): Promise<void> {
    await this.sampler?.stop();
  }

  latest(): commonv1.Gpu[] | undefined {
    const last = this.sampler?.latest();
    if (!last || last.at === undefined) return undefined;
    return this.numbered(last.samples.map((s) => toProtoGpu(s, this.cudaVersion)));
  }

  async current(signal: AbortSignal): Promise<commonv1.Gpu[]> {
    const sampled = this.latest();
    if (sampled) return sampled;
    if (!this.sampler) return [];
    try {
      const samples = await this.options.nvidia.queryGpus({ signal });
      return this.numbered(samples.map((s) => toProtoGpu(s, this.cudaVersion)));
    } catch (err) {
      // nvidia-smi without a loaded driver: the node has no usable GPU, which is an answer, not a failure.
      if (isPhoenixError(err) && err.code === 'UNAVAILABLE') return [];
      throw err;
    }
  }
}
