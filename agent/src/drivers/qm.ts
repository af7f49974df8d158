/** `qm`: QEMU VMs. Output parsed per docs/reference/proxmox-cli.md §2. */
import { CommandFailedError, InvalidArgumentError } from '@phoenix/shared';
import * as a from './args.js';
import { GuestTool, LONG_MS } from './guest-tool.js';
import { parseQmList } from './parse-pve.js';
import type { CommandExecutor } from './run.js';
import type { CallOptions, ExecOptions, ExecResult, PveParams, QmDriver } from './types.js';


/** The JSON `qm guest exec` prints (pretty, canonical keys). */
interface GuestExecJson {
  exitcode?: number;
  exited?: number | boolean;
  'out-data'?: string;
  'err-data'?: string;
  pid?: number;
}

export class Qm extends GuestTool implements QmDriver {
  constructor(exec: CommandExecutor) {
    super(exec, 'qm', 'name');
  }

  async list(opts?: CallOptions) {
    return parseQmList((await this.call(['list'], false, opts)).stdout);
  }

  async create(vmid: number, params: PveParams, opts?: CallOptions) {
    await this.call(['create', a.vmid(vmid), ...a.paramArgs(params)], true, opts, undefined, LONG_MS);
  }

  async importDisk(vmid: number, source: string, storage: string, opts?: CallOptions) {
    const src = source.startsWith('/') ? a.hostPath(source, 'source') : a.volid(source, 'source');
    await this.call(['importdisk', a.vmid(vmid), src, a.storageId(storage)], true, opts, undefined, LONG_MS);
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
