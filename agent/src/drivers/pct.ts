/** `pct`: LXC containers. Output parsed per research/proxmox-cli.md §1. */
import { InvalidArgumentError, hostnameSchema, parseOrThrow } from '@phoenix/shared';
import * as a from './args.js';
import { parseGuestConfig } from './parse-config.js';
import { parsePctList, parseSnapshotTree } from './parse-pve.js';
import { withCallOptions, type CommandExecutor, type RunRequest } from './run.js';
import { mapToolFailure } from './tool-errors.js';
import type { CallOptions, CloneOptions, ExecOptions, ExecResult, GuestRunState, PctDriver, PveParams } from './types.js';

export function parseStatusLine(text: string): GuestRunState {
  const m = /^status:\s*(\S+)/m.exec(text);
  const s = m?.[1];
  return s === 'running' || s === 'stopped' || s === 'paused' ? s : 'unknown';
}

/** Task-based commands may run long; these are upper bounds, config values win. */
const LONG_MS = 30 * 60_000;

export class Pct implements PctDriver {
  constructor(private readonly exec_: CommandExecutor) {}

  private call(args: string[], mutating: boolean, opts: CallOptions = {}, subcommand?: string, timeoutMs?: number) {
    const req: RunRequest = { tool: 'pct', args, mutating };
    if (subcommand) req.subcommand = subcommand;
    return this.exec_.run(withCallOptions(req, opts, timeoutMs));
  }

  async list(opts?: CallOptions) {
    return parsePctList((await this.call(['list'], false, opts)).stdout);
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

  async create(vmid: number, ostemplate: string, params: PveParams, opts?: CallOptions) {
    const tpl = ostemplate.startsWith('/') ? a.hostPath(ostemplate, 'ostemplate') : a.volid(ostemplate, 'ostemplate');
    await this.call(['create', a.vmid(vmid), tpl, ...a.paramArgs(params)], true, opts, undefined, LONG_MS);
  }

  async clone(vmid: number, newid: number, o: CloneOptions, opts?: CallOptions) {
    const args = ['clone', a.vmid(vmid, 'source'), a.vmid(newid, 'newid')];
    const params: Record<string, string | number | boolean> = {};
    if (o.name) params['hostname'] = parseOrThrow(hostnameSchema, o.name, 'hostname');
    if (o.snapname) params['snapname'] = a.snapname(o.snapname);
    if (o.full !== undefined) params['full'] = o.full;
    if (o.storage) params['storage'] = a.storageId(o.storage);
    if (o.description) params['description'] = o.description;
    await this.call([...args, ...a.paramArgs(params)], true, opts, undefined, LONG_MS);
  }

  async set(vmid: number, params: PveParams, deleteKeys: readonly string[], opts?: CallOptions) {
    await this.call(['set', a.vmid(vmid), ...a.paramArgs(params), ...a.deleteArgs(deleteKeys)], true, opts);
  }

  async resize(vmid: number, disk: string, size: string, opts?: CallOptions) {
    await this.call(['resize', a.vmid(vmid), a.diskKey(disk), a.diskSize(size)], true, opts, undefined, LONG_MS);
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

  async destroy(vmid: number, o: { force?: boolean; purge?: boolean; destroyUnreferencedDisks?: boolean }, opts?: CallOptions) {
    const args = ['destroy', a.vmid(vmid)];
    if (o.force) args.push('--force', '1');
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
    // pct template exits 0 even when its task fails (proxmox-cli.md §0.1): the error text on
    // stderr is the only sign, so a failure is recognised by it.
    const res = await this.call(['template', a.vmid(vmid)], true, opts);
    if (res.stderr.trim() !== '') {
      throw mapToolFailure({ tool: 'pct', subcommand: 'template', args: ['template', String(vmid)], exitCode: 0, stdout: res.stdout, stderr: res.stderr }, undefined);
    }
  }

  async unlock(vmid: number, opts?: CallOptions) {
    await this.call(['unlock', a.vmid(vmid)], true, opts);
  }

  async exec(vmid: number, command: readonly string[], o: ExecOptions): Promise<ExecResult> {
    if (command.length === 0) throw new InvalidArgumentError('command', command, 'pct exec needs a command');
    const args = ['exec', a.vmid(vmid), '--', ...command];
    const res = await this.exec_.run({
      tool: 'pct',
      args,
      mutating: o.mutating,
      allowNonZeroExit: true,
      ...(o.input !== undefined ? { input: o.input } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onLine ? { onLine: o.onLine } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    });
    // pct's own failures (CT missing or stopped) share the exit channel with the command's.
    if (res.exitCode !== 0 && /^(container '\d+' not running!|Configuration file '[^']+' does not exist|CT is locked)/m.test(res.stderr)) {
      throw mapToolFailure({ tool: 'pct', subcommand: 'exec', args, ...res }, undefined);
    }
    return { exitCode: res.exitCode, stdout: res.stdout, stderr: res.stderr };
  }

  async push(vmid: number, localFile: string, destination: string, o: { perms?: string }, opts?: CallOptions) {
    const args = ['push', a.vmid(vmid), a.hostPath(localFile, 'file'), a.guestPath(destination, 'destination')];
    if (o.perms) {
      if (!/^0?[0-7]{3,4}$/.test(o.perms)) throw new InvalidArgumentError('perms', o.perms, 'must be octal such as 0644');
      args.push('--perms', o.perms);
    }
    await this.call(args, true, opts);
  }
}
