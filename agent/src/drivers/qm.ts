/** `qm`: QEMU VMs. Output parsed per research/proxmox-cli.md §2. */
import { CommandFailedError, InvalidArgumentError, hostnameSchema, parseOrThrow } from '@phoenix/shared';
import * as a from './args.js';
import { parseGuestConfig } from './parse-config.js';
import { parseQmList, parseSnapshotTree } from './parse-pve.js';
import { parseStatusLine } from './pct.js';
import { withCallOptions, type CommandExecutor, type RunRequest } from './run.js';
import { mapToolFailure } from './tool-errors.js';
import type { CallOptions, CloneOptions, ExecOptions, ExecResult, PveParams, QmDriver } from './types.js';

const LONG_MS = 30 * 60_000;

/** The JSON `qm guest exec` prints (pretty, canonical keys). */
interface GuestExecJson {
  exitcode?: number;
  exited?: number | boolean;
  'out-data'?: string;
  'err-data'?: string;
  pid?: number;
}

export class Qm implements QmDriver {
  constructor(private readonly exec_: CommandExecutor) {}

  private call(args: string[], mutating: boolean, opts: CallOptions = {}, subcommand?: string, timeoutMs?: number) {
    const req: RunRequest = { tool: 'qm', args, mutating };
    if (subcommand) req.subcommand = subcommand;
    return this.exec_.run(withCallOptions(req, opts, timeoutMs));
  }

  async list(opts?: CallOptions) {
    return parseQmList((await this.call(['list'], false, opts)).stdout);
  }

  async config(vmid: number, opts: CallOptions & { snapshot?: string; current?: boolean } = {}) {
    const args = ['config', a.vmid(vmid)];
    if (opts.snapshot) args.push('--snapshot', a.snapname(opts.snapshot));
    if (opts.current) args.push('--current', '1');
    return parseGuestConfig((await this.call(args, false, opts)).stdout);
  }

  async status(vmid: number, opts?: CallOptions) {
    return parseStatusLine((await this.call(['status', a.vmid(vmid)], false, opts)).stdout);
  }

  async create(vmid: number, params: PveParams, opts?: CallOptions) {
    await this.call(['create', a.vmid(vmid), ...a.paramArgs(params)], true, opts, undefined, LONG_MS);
  }

  async clone(vmid: number, newid: number, o: CloneOptions, opts?: CallOptions) {
    const params: Record<string, string | number | boolean> = {};
    if (o.name) params['name'] = parseOrThrow(hostnameSchema, o.name, 'name');
    if (o.snapname) params['snapname'] = a.snapname(o.snapname);
    if (o.full !== undefined) params['full'] = o.full;
    if (o.storage) params['storage'] = a.storageId(o.storage);
    if (o.description) params['description'] = o.description;
    await this.call(['clone', a.vmid(vmid, 'source'), a.vmid(newid, 'newid'), ...a.paramArgs(params)], true, opts, undefined, LONG_MS);
  }

  async set(vmid: number, params: PveParams, deleteKeys: readonly string[], opts?: CallOptions) {
    await this.call(['set', a.vmid(vmid), ...a.paramArgs(params), ...a.deleteArgs(deleteKeys)], true, opts);
  }

  async resize(vmid: number, disk: string, size: string, opts?: CallOptions) {
    await this.call(['resize', a.vmid(vmid), a.diskKey(disk), a.diskSize(size)], true, opts, undefined, LONG_MS);
  }

  async importDisk(vmid: number, source: string, storage: string, opts?: CallOptions) {
    const src = source.startsWith('/') ? a.hostPath(source, 'source') : a.volid(source, 'source');
    await this.call(['importdisk', a.vmid(vmid), src, a.storageId(storage)], true, opts, undefined, LONG_MS);
  }

  async start(vmid: number, opts?: CallOptions) {
    await this.call(['start', a.vmid(vmid)], true, opts);
  }

  async stop(vmid: number, opts?: CallOptions) {
    await this.call(['stop', a.vmid(vmid)], true, opts);
  }

  async shutdown(vmid: number, timeoutSeconds: number, forceStop: boolean, opts?: CallOptions) {
    const args = ['shutdown', a.vmid(vmid), '--timeout', String(Math.max(0, Math.floor(timeoutSeconds)))];
    if (forceStop) args.push('--forceStop', '1');
    await this.call(args, true, opts);
  }

  async destroy(vmid: number, o: { purge?: boolean; destroyUnreferencedDisks?: boolean }, opts?: CallOptions) {
    const args = ['destroy', a.vmid(vmid)];
    if (o.purge) args.push('--purge', '1');
    if (o.destroyUnreferencedDisks) args.push('--destroy-unreferenced-disks', '1');
    await this.call(args, true, opts, undefined, LONG_MS);
  }

  async snapshot(vmid: number, name: string, description: string | undefined, opts?: CallOptions) {
    const args = ['snapshot', a.vmid(vmid), a.snapname(name)];
    if (description) args.push(...a.paramArgs({ description }));
    await this.call(args, true, opts, undefined, LONG_MS);
  }

  async delsnapshot(vmid: number, name: string, opts?: CallOptions) {
    await this.call(['delsnapshot', a.vmid(vmid), a.snapname(name)], true, opts, undefined, LONG_MS);
  }

  async listSnapshots(vmid: number, opts?: CallOptions) {
    return parseSnapshotTree((await this.call(['listsnapshot', a.vmid(vmid)], false, opts)).stdout);
  }

  async rollback(vmid: number, name: string, start: boolean, opts?: CallOptions) {
    const args = ['rollback', a.vmid(vmid), a.snapname(name)];
    if (start) args.push('--start', '1');
    await this.call(args, true, opts, undefined, LONG_MS);
  }

  async template(vmid: number, opts?: CallOptions) {
    // Like pct template: exit 0 even when the task fails; stderr carries the error.
    const res = await this.call(['template', a.vmid(vmid)], true, opts);
    if (res.stderr.trim() !== '') {
      throw mapToolFailure({ tool: 'qm', subcommand: 'template', args: ['template', String(vmid)], exitCode: 0, stdout: res.stdout, stderr: res.stderr }, undefined);
    }
  }

  async unlock(vmid: number, opts?: CallOptions) {
    await this.call(['unlock', a.vmid(vmid)], true, opts);
  }

  async cloudinitUpdate(vmid: number, opts?: CallOptions) {
    await this.call(['cloudinit', 'update', a.vmid(vmid)], true, opts, 'cloudinit update');
  }

  async agentPing(vmid: number, opts?: CallOptions) {
    await this.call(['agent', a.vmid(vmid), 'ping'], false, opts, 'agent ping');
  }

  async guestExec(vmid: number, command: readonly string[], o: ExecOptions & { timeoutSeconds?: number }): Promise<ExecResult> {
    if (command.length === 0) throw new InvalidArgumentError('command', command, 'qm guest exec needs a command');
    const args = ['guest', 'exec', a.vmid(vmid)];
    if (o.timeoutSeconds !== undefined) args.push('--timeout', String(Math.max(0, Math.floor(o.timeoutSeconds))));
    if (o.input !== undefined) args.push('--pass-stdin', '1');
    args.push('--', ...command);
    const res = await this.exec_.run({
      tool: 'qm',
      args,
      subcommand: 'guest exec',
      mutating: o.mutating,
      ...(o.input !== undefined ? { input: o.input } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    });
    let parsed: GuestExecJson;
    try {
      parsed = JSON.parse(res.stdout) as GuestExecJson;
    } catch (err) {
      throw new CommandFailedError(`qm guest exec ${vmid}: output is not JSON`, { cause: err, details: { stdout: res.stdout.slice(0, 500) } });
    }
    if (!parsed.exited) {
      throw new CommandFailedError(`qm guest exec ${vmid}: command still running after the timeout (pid ${parsed.pid ?? '?'})`, {
        details: { pid: parsed.pid },
      });
    }
    const stdout = parsed['out-data'] ?? '';
    const stderr = parsed['err-data'] ?? '';
    for (const line of stdout.split('\n')) if (line !== '') o.onLine?.(line, 'stdout');
    for (const line of stderr.split('\n')) if (line !== '') o.onLine?.(line, 'stderr');
    return { exitCode: parsed.exitcode ?? -1, stdout, stderr };
  }
}
