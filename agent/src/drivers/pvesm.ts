/** `pvesm`: Proxmox storages (docs/reference/proxmox-cli.md §5). */
import { InvalidArgumentError } from '@phoenix/shared';
import * as a from './args.js';
import { parsePvesmStatus } from './parse-pve.js';
import type { CommandExecutor } from './run.js';
import type { CallOptions, PveParams, PvesmDriver } from './types.js';

const STORAGE_TYPES = /^(dir|lvm|lvmthin|zfspool|zfs|nfs|cifs|pbs|glusterfs|cephfs|rbd|iscsi|iscsidirect|btrfs|esxi)$/;

export class Pvesm implements PvesmDriver {
  constructor(private readonly exec_: CommandExecutor) {}

  private run(args: string[], mutating: boolean, opts: CallOptions = {}) {
    return this.exec_.run({
      tool: 'pvesm',
      args,
      mutating,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
  }

  async status(opts?: CallOptions) {
    return parsePvesmStatus((await this.run(['status'], false, opts)).stdout);
  }

  async add(type: string, id: string, params: PveParams, opts?: CallOptions) {
    if (!STORAGE_TYPES.test(type)) throw new InvalidArgumentError('type', type, 'not a Proxmox storage type');
    await this.run(['add', type, a.storageId(id, 'id'), ...a.paramArgs(params)], true, opts);
  }

  async set(id: string, params: PveParams, opts?: CallOptions) {
    await this.run(['set', a.storageId(id, 'id'), ...a.paramArgs(params)], true, opts);
  }

  /** The file system path of a volume (`pvesm path`); for a dir storage's ISO, where the file lives. */
  async path(volid: string, opts?: CallOptions): Promise<string> {
    return (await this.run(['path', a.volid(volid)], false, opts)).stdout.trim();
  }

  async free(volid: string, opts?: CallOptions): Promise<void> {
    await this.run(['free', a.volid(volid)], true, opts);
  }

  async remove(id: string, opts?: CallOptions) {
    await this.run(['remove', a.storageId(id, 'id')], true, opts);
  }
}
