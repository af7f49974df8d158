/** `nvidia-smi`: GPU inventory with one `--query-gpu` call. */
import { NotFoundError } from '@phoenix/shared';
import { GPU_QUERY_FIELDS, parseGpuQuery, parseSmiHeader } from './parse-nvidia.js';
import type { CommandExecutor } from './run.js';
import type { CallOptions, NvidiaSmiDriver } from './types.js';

/** Arguments of a query; `loopMs` turns it into the long-lived sampling process. */
export function gpuQueryArgs(loopMs?: number): string[] {
  const args = [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];
  if (loopMs !== undefined) args.push('-lms', String(Math.max(1, Math.floor(loopMs))));
  return args;
}

export class NvidiaSmi implements NvidiaSmiDriver {
  constructor(private readonly exec_: CommandExecutor) {}

  async queryGpus(opts: CallOptions = {}) {
    try {
      const res = await this.exec_.run({
        tool: 'nvidiaSmi',
        args: gpuQueryArgs(),
        subcommand: 'query-gpu',
        mutating: false,
        ...(opts.signal ? { signal: opts.signal } : {}),
        timeoutMs: opts.timeoutMs ?? 30_000,
      });
      return parseGpuQuery(res.stdout);
    } catch (err) {
      // "No devices were found" (exit 6): a node without GPUs is not an error for inventory.
      if (err instanceof NotFoundError) return [];
      throw err;
    }
  }

  async versions(opts: CallOptions = {}) {
    try {
      const res = await this.exec_.run({
        tool: 'nvidiaSmi',
        args: [],
        subcommand: 'summary',
        mutating: false,
        ...(opts.signal ? { signal: opts.signal } : {}),
        timeoutMs: opts.timeoutMs ?? 30_000,
      });
      return parseSmiHeader(res.stdout);
    } catch (err) {
      if (err instanceof NotFoundError) return { driverVersion: undefined, cudaVersion: undefined };
      throw err;
    }
  }
}
