import type { GuestConfig } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { addUnused } from '../guest-common/guest-options.js';
import { volumeInUse, type PendingKind } from '../guest-common/pending-apply.js';
import { vdiskFree } from '../pvesm/storage.js';
import { mountType, parseMountPoint } from './lxc-config.js';
import { allocMountPoint } from './lxc-options.js';

/** Pending changes of a container: mount points allocate on apply, a replaced volume becomes unused. */
export const lxcPending: PendingKind = {
  volumeOf(key, value) {
    return key === 'rootfs' || /^mp\d+$/.test(key) ? parseMountPoint(key, value).volume : undefined;
  },

  async drop(ctx, conf, opt) {
    const cur = conf.props[opt];
    if (cur === undefined) return;
    if (/^mp\d+$/.test(opt)) {
      const mp = parseMountPoint(opt, cur);
      if (mountType(mp.volume) === 'volume' && !volumeInUse(lxcPending, conf, mp.volume, opt)) addUnused(conf, mp.volume);
    } else if (/^unused\d+$/.test(opt) && !volumeInUse(lxcPending, conf, cur, opt)) {
      await vdiskFree(ctx.state, cur);
    }
  },

  async apply(ctx, vmid, conf, opt, value) {
    return /^mp\d+$/.test(opt) ? applyMountPoint(ctx, vmid, conf, opt, value) : value;
  },
};

/** apply_pending_mountpoint: a new volume is allocated, the one it replaces becomes unused. */
async function applyMountPoint(ctx: Ctx, vmid: number, conf: GuestConfig, opt: string, value: string): Promise<string> {
  const stored = await allocMountPoint(ctx, vmid, opt, value, (l) => ctx.out(`${l}\n`));
  const cur = conf.props[opt];
  if (cur !== undefined) {
    const old = parseMountPoint(opt, cur);
    if (mountType(old.volume) === 'volume' && old.volume !== parseMountPoint(opt, stored).volume && !volumeInUse(lxcPending, conf, old.volume, opt)) {
      addUnused(conf, old.volume);
    }
  }
  return stored;
}
