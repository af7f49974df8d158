import type { GuestConfig } from '../core/config-file.js';
import { addUnused } from '../guest-common/guest-options.js';
import type { PendingKind } from '../guest-common/pending-apply.js';
import { vdiskFree } from '../pvesm/storage.js';
import { driveIsCdrom, driveIsCloudinit, isDriveKey, parseDrive } from './qemu-config.js';

/** Pending changes of a VM: drives leave their volume unused (or freed with force). */
export const qemuPending: PendingKind = {
  volumeOf(key, value) {
    return isDriveKey(key) ? parseDrive(key, value)?.['file'] : undefined;
  },

  /** vmconfig_delete_or_detach_drive: the volume becomes unused, or is freed with force. */
  async drop(ctx, conf, opt, force) {
    const cur = conf.props[opt];
    if (cur === undefined || !isDriveKey(opt)) return;
    const drive = parseDrive(opt, cur);
    const volid = drive?.['file'];
    if (!drive || driveIsCdrom(drive) || !volid?.includes(':')) return;
    if (force || driveIsCloudinit(drive)) await vdiskFree(ctx.state, volid);
    else addUnused(conf, volid);
  },

  apply(_ctx, _vmid, conf, opt, value) {
    replaceDrive(conf, opt, value);
    return Promise.resolve(value);
  },
};

/** vmconfig_register_unused_drive for a drive a pending value replaces. */
function replaceDrive(conf: GuestConfig, opt: string, value: string): void {
  const cur = conf.props[opt];
  if (cur === undefined || !isDriveKey(opt)) return;
  const old = parseDrive(opt, cur);
  const volid = old?.['file'];
  if (!old || driveIsCdrom(old) || driveIsCloudinit(old) || !volid?.includes(':')) return;
  if (parseDrive(opt, value)?.['file'] === volid) return;
  addUnused(conf, volid);
}
