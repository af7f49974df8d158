/** `pct`: LXC containers. Output parsed per docs/reference/proxmox-cli.md §1. */
import { InvalidArgumentError } from '@phoenix/shared';
import * as a from './args.js';
import { GuestTool, LONG_MS } from './guest-tool.js';
import { parsePctList } from './parse-pve.js';
import type { CommandExecutor } from './run.js';
import { mapToolFailure } from './tool-errors.js';
import type { CallOptions, ExecOptions, ExecResult, PctDriver, PveParams } from './types.js';

export class Pct extends GuestTool implements PctDriver {
  constructor(exec: CommandExecutor) {
    super(exec, 'pct', 'hostname');
  }

  async list(opts?: CallOptions) {
    return parsePctList((await this.call(['list'], false, opts)).stdout);
  }

  async create(vmid: number, ostemplate: string, params: PveParams, opts?: CallOptions) {
    const tpl = ostemplate.startsWith('/') ? a.hostPath(ostemplate, 'ostemplate') : a.volid(ostemplate, 'ostemplate');
    await this.call(['create', a.vmid(vmid), tpl, ...a.paramArgs(params)], true, opts, undefined, LONG_MS);
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
