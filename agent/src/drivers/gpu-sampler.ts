/**
 * One long-lived `nvidia-smi --query-gpu=… --format=csv,noheader,nounits -lms <ms>` process, read
 * line by line, instead of a spawn per sample (one call costs ~0.6 s of CPU on a real node). If
 * the process dies it is restarted with exponential backoff. Samples of one round (one line per
 * GPU, in index order) are also delivered together as a batch.
 */
import type { Logger } from '@phoenix/shared';
import { gpuQueryArgs } from './nvidia-smi.js';
import { parseGpuQueryLine, type GpuSample } from './parse-nvidia.js';
import type { CommandExecutor, LongProcess } from './run.js';

export interface GpuSamplerOptions {
  executor: CommandExecutor;
  intervalMs: number;
  logger?: Logger;
  /** Every parsed line. */
  onSample?: (sample: GpuSample, at: Date) => void;
  /** Every complete round (all GPUs once). */
  onBatch?: (samples: GpuSample[], at: Date) => void;
  /** Unparseable output or an exit; the sampler keeps going. */
  onError?: (message: string) => void;
  /** @default 1000 */
  restartInitialMs?: number;
  /** @default 30000 */
  restartMaxMs?: number;
}

export class GpuSampler {
  private proc: LongProcess | undefined;
  private stopped = true;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private batch: GpuSample[] = [];
  private expected = 0;
  private readonly last = new Map<number, GpuSample>();
  private lastAt: Date | undefined;
  private restarts_ = 0;

  constructor(private readonly opts: GpuSamplerOptions) {
    this.backoffMs = opts.restartInitialMs ?? 1000;
  }

  /** Latest sample per GPU index. */
  latest(): { samples: GpuSample[]; at: Date | undefined } {
    return { samples: [...this.last.values()].sort((x, y) => x.index - y.index), at: this.lastAt };
  }

  /** How many times the process was restarted after dying. */
  get restarts(): number {
    return this.restarts_;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.spawn();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const p = this.proc;
    this.proc = undefined;
    if (p) {
      p.kill();
      await p.exited;
    }
  }

  private spawn(): void {
    const startedAt = Date.now();
    let gotSample = false;
    let reportedGarbage = false;
    const proc = this.opts.executor.spawnLong('nvidiaSmi', gpuQueryArgs(this.opts.intervalMs), (line, stream) => {
      if (stream === 'stderr') {
        if (line.trim() !== '') this.opts.onError?.(`nvidia-smi: ${line.trim()}`);
        return;
      }
      const sample = parseGpuQueryLine(line);
      if (!sample) {
        if (line.trim() !== '' && !reportedGarbage) {
          reportedGarbage = true;
          this.opts.onError?.(`nvidia-smi printed an unexpected line: ${line.slice(0, 200)}`);
        }
        return;
      }
      gotSample = true;
      this.accept(sample);
    });
    this.proc = proc;
    void proc.exited.then((code) => {
      if (this.proc !== proc) return;
      this.proc = undefined;
      this.flush();
      if (this.stopped) return;
      this.opts.onError?.(`nvidia-smi sampler exited (${code === null ? 'signal' : `code ${code}`}); restarting`);
      this.opts.logger?.warn({ code }, 'nvidia-smi sampler exited; restarting with backoff');
      // A run that produced samples or lasted a while resets the backoff.
      if (gotSample || Date.now() - startedAt > 60_000) this.backoffMs = this.opts.restartInitialMs ?? 1000;
      const wait = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.opts.restartMaxMs ?? 30_000);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (this.stopped) return;
        this.restarts_++;
        this.spawn();
      }, wait);
    });
  }

  private accept(sample: GpuSample): void {
    const at = new Date();
    const prev = this.batch[this.batch.length - 1];
    if (prev !== undefined && sample.index <= prev.index) this.flush();
    this.batch.push(sample);
    this.last.set(sample.index, sample);
    this.lastAt = at;
    this.opts.onSample?.(sample, at);
    if (this.expected > 0 && this.batch.length >= this.expected) this.flush();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const samples = this.batch;
    this.batch = [];
    this.expected = samples.length;
    this.opts.onBatch?.(samples, this.lastAt ?? new Date());
  }
}
