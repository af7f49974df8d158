/**
 * GPUs as the API and telemetry show them, from ONE long-lived `nvidia-smi` sampling process (the
 * drivers' GpuSampler) rather than a spawn per sample. Without a sample yet (or without the
 * sampler), a one-shot query answers GetNodeInfo/ListGpus.
 */
import { access, constants } from 'node:fs/promises';
import { isPhoenixError, type commonv1, type Logger } from '@phoenix/shared';
import { GpuSampler, type CommandExecutor, type GpuSample, type NvidiaSmiDriver } from '../drivers/index.js';
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

export interface GpuInventoryOptions {
  executor: CommandExecutor;
  nvidia: NvidiaSmiDriver;
  nvidiaSmiPath: string;
  intervalMs: number;
  log: Logger;
}

export class GpuInventory implements GpuSource {
  private sampler: GpuSampler | undefined;
  private cudaVersion = '';

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
  }

  async stop(): Promise<void> {
    await this.sampler?.stop();
  }

  latest(): commonv1.Gpu[] | undefined {
    const last = this.sampler?.latest();
    if (!last || last.at === undefined) return undefined;
    return last.samples.map((s) => toProtoGpu(s, this.cudaVersion));
  }

  async current(signal: AbortSignal): Promise<commonv1.Gpu[]> {
    const sampled = this.latest();
    if (sampled) return sampled;
    if (!this.sampler) return [];
    try {
      const samples = await this.options.nvidia.queryGpus({ signal });
      return samples.map((s) => toProtoGpu(s, this.cudaVersion));
    } catch (err) {
      // nvidia-smi without a loaded driver: the node has no usable GPU, which is an answer, not a failure.
      if (isPhoenixError(err) && err.code === 'UNAVAILABLE') return [];
      throw err;
    }
  }
}
