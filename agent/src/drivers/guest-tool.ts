/**
 * What `pct` and `qm` share: the PVE guest-config commands, snapshots, templates and unlock behave
 * the same for both (docs/reference/proxmox-cli.md §1 and §2), so they live once here.
 */
import * as a from './args.js';
import { parseGuestConfig } from './parse-config.js';
import { parseSnapshotTree } from './parse-pve.js';
import { withCallOptions, type CommandExecutor, type RunRequest } from './run.js';
import { mapToolFailure } from './tool-errors.js';
import type { CallOptions, GuestRunState } from './types.js';

/** Task-based commands may run long; these are upper bounds, config values win. */
export const LONG_MS = 30 * 60_000;

export function parseStatusLine(text: string): GuestRunState {
  const m = /^status:\s*(\S+)/m.exec(text);
  const s = m?.[1];
  return s === 'running' || s === 'stopped' || s === 'paused' ? s : 'unknown';
}

export abstract class GuestTool {
  constructor(
    protected readonly exec_: CommandExecutor,
    private readonly tool: 'pct' | 'qm',
  ) {}

  protected call(args: string[], mutating: boolean, opts: CallOptions = {}, subcommand?: string, timeoutMs?: number) {
    const req: RunRequest = { tool: this.tool, args, mutating };
    if (subcommand) req.subcommand = subcommand;
    return this.exec_.run(withCallOptions(req, opts, timeoutMs));
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
    // pct/qm template exit 0 even when their task fails (docs/reference/proxmox-cli.md §0.1): the error text on
    // stderr is the only sign, so a failure is recognised by it.
    const res = await this.call(['template', a.vmid(vmid)], true, opts);
    if (res.stderr.trim() !== '') {
      throw mapToolFailure({ tool: this.tool, subcommand: 'template', args: ['template', String(vmid)], exitCode: 0, stdout: res.stdout, stderr: res.stderr }, undefined);
    }
  }

  async unlock(vmid: number, opts?: CallOptions) {
    await this.call(['unlock', a.vmid(vmid)], true, opts);
  }
}
