/** `pvesh`: the API from the command line, always `--output-format json` (docs/reference/proxmox-cli.md §4). */
import { CommandFailedError } from '@phoenix/shared';
import * as a from './args.js';
import type { CommandExecutor } from './run.js';
import type { CallOptions, PveParams, PveshDriver } from './types.js';

type Verb = 'get' | 'create' | 'set' | 'delete';

export class Pvesh implements PveshDriver {
  constructor(private readonly exec_: CommandExecutor) {}

  private async call<T>(verb: Verb, path: string, params: PveParams = {}, opts: CallOptions = {}): Promise<T> {
    const args = [verb, a.apiPath(path), ...a.paramArgs(params), '--output-format', 'json'];
    const res = await this.exec_.run({
      tool: 'pvesh',
      args,
      subcommand: verb,
      mutating: verb !== 'get',
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
    const text = res.stdout.trim();
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      // Some methods print a bare task id or text even with json output.
      if (verb !== 'get') return text as T;
      throw new CommandFailedError(`pvesh get ${path}: output is not JSON`, { cause: err, details: { stdout: text.slice(0, 500) } });
    }
  }

  get<T = unknown>(path: string, params?: PveParams, opts?: CallOptions) {
    return this.call<T>('get', path, params, opts);
  }
  create<T = unknown>(path: string, params?: PveParams, opts?: CallOptions) {
    return this.call<T>('create', path, params, opts);
  }
  set<T = unknown>(path: string, params?: PveParams, opts?: CallOptions) {
    return this.call<T>('set', path, params, opts);
  }
  delete<T = unknown>(path: string, params?: PveParams, opts?: CallOptions) {
    return this.call<T>('delete', path, params, opts);
  }

  async nextId(opts?: CallOptions): Promise<number> {
    // Prints "100" (a quoted string), a Perl typing leak (docs/reference/proxmox-cli.md §4.1).
    const v = await this.get<string | number>('/cluster/nextid', {}, opts);
    const n = Number(v);
    if (!Number.isInteger(n)) throw new CommandFailedError(`pvesh get /cluster/nextid: unexpected ${JSON.stringify(v)}`);
    return n;
  }
}
