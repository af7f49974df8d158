/** `pct`: LXC containers. Output parsed per docs/reference/proxmox-cli.md §1. */
import { InvalidArgumentError, hostnameSchema, parseOrThrow } from '@phoenix/shared';
import * as a from './args.js';
import { GuestTool, LONG_MS } from './guest-tool.js';
import { parsePctList } from './parse-pve.js';
import type { CommandExecutor } from './run.js';
import { mapToolFailure } from './tool-errors.js';
import type { CallOptions, CloneOptions, ExecOptions, ExecResult, PctDriver, PveParams } from './types.js';



export class Pct extends GuestTool implements PctDriver {
  constructor(exec: CommandExecutor) {
    super(exec, 'pct');
  }

  async list(opts?: CallOptions) {
    return parsePctList((await this.call(['list'], false, opts)).stdout);
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
