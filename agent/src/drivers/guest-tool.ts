/**
 * What `pct` and `qm` share: the PVE guest-config commands, snapshots, templates and unlock behave
 * the same for both (docs/reference/proxmox-cli.md §1 and §2), so they live once here.
 */
import { InvalidArgumentError, hostnameSchema, parseOrThrow } from '@phoenix/shared';
import * as a from './args.js';
import { parseGuestConfig } from './parse-config.js';
import { parseSnapshotTree } from './parse-pve.js';
import { withCallOptions, type CommandExecutor, type RunRequest } from './run.js';
import { mapToolFailure } from './tool-errors.js';
import type { CallOptions, CloneOptions, DestroyOptions, GuestRunState, PveParams } from './types.js';

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
    /** The clone parameter that names the new guest: `hostname` for pct, `name` for qm. */
    private readonly cloneNameKey: 'hostname' | 'name',
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

  async clone(vmid: number, newid: number, o: CloneOptions, opts?: CallOptions) {
    const params: Record<string, string | number | boolean> = {};
    if (o.name) params[this.cloneNameKey] = parseOrThrow(hostnameSchema, o.name, this.cloneNameKey);
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

  async destroy(vmid: number, o: DestroyOptions, opts?: CallOptions) {
    const args = ['destroy', a.vmid(vmid)];
    // `pct destroy` alone has --force (stop a running CT first); qm refuses the option.
    if (o.force && this.tool !== 'pct') throw new InvalidArgumentError('force', o.force, 'qm destroy has no --force');
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
