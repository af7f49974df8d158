import type { Params } from '../core/cli-args.js';
import type { ConfSection } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { die } from '../core/errors.js';
import { registerQemuFormats, vmDiskVolumes } from './qemu-config.js';
import { qmClone, qmDestroy, qmImportDisk, qmResize, qmTemplate } from './qm-clone.js';
import { qmCreate } from './qm-create.js';
import { qmCloudinitPending, qmCloudinitUpdate, qmGuestCmd, qmGuestExec, qmTerminal } from './qm-guest.js';
import { qmList, qmReboot, qmResume, qmShutdown, qmStart, qmStatus, qmStop, qmStopLocked, qmSuspend, qmWait } from './qm-power.js';
import { qmConfig, qmSet, qmUnlock } from './qm-set.js';
import { runPveCli, type Handler } from '../core/pve-cli.js';
import { guestPending } from '../guest-common/guest-config-print.js';
import { printSnapshotTree, snapshotCreate, snapshotDelete, snapshotList, snapshotRollback, type GuestOps } from '../guest-common/snapshots.js';
import { runTask } from '../core/task.js';

/** The `qm` command. */

export const qemuOps: GuestOps = {
  type: 'qemu',
  snapVolumes: (section: ConfSection) => vmDiskVolumes(section, { withCloudinit: false }),
  snapshotMessage: (key, volid) => `snapshotting 'drive-${key}' (${volid})\n`,
  stop: (ctx: Ctx, vmid: number) => qmStopLocked(ctx, vmid, { skiplock: true }),
};

const vmidOf = (p: Params): number => Number(p['vmid']);
const snapOf = (p: Params): string => String(p['snapname']);

const handlers: Record<string, Handler> = {
  list: (ctx) => qmList(ctx),
  pending: (ctx, p) => guestPending(ctx, p, 'qemu'),
  create: qmCreate,
  destroy: qmDestroy,
  clone: qmClone,
  set: qmSet,
  config: qmConfig,
  status: qmStatus,
  unlock: qmUnlock,
  start: qmStart,
  stop: qmStop,
  shutdown: qmShutdown,
  reboot: qmReboot,
  suspend: qmSuspend,
  resume: qmResume,
  wait: qmWait,
  template: qmTemplate,
  terminal: qmTerminal,
  'disk import': qmImportDisk,
  'disk resize': qmResize,
  'guest cmd': qmGuestCmd,
  'guest exec': qmGuestExec,
  'cloudinit update': qmCloudinitUpdate,
  'cloudinit pending': qmCloudinitPending,
  snapshot: (ctx, p) => {
    const name = snapOf(p);
    if (name.toLowerCase() === 'current' || name.toLowerCase() === 'pending') die(`unable to use snapshot name '${name}' (reserved name)`);
    if (p['vmstate'] === '1') die('saving the VM state is not supported by the emulator');
    const desc = typeof p['description'] === 'string' ? p['description'] : undefined;
    return runTask(ctx, 'qmsnapshot', String(vmidOf(p)), () => snapshotCreate(ctx, qemuOps, vmidOf(p), name, desc));
  },
  delsnapshot: (ctx, p) =>
    runTask(ctx, 'qmdelsnapshot', String(vmidOf(p)), () => snapshotDelete(ctx, qemuOps, vmidOf(p), snapOf(p), p['force'] === '1')),
  rollback: (ctx, p) =>
    runTask(ctx, 'qmrollback', String(vmidOf(p)), async () => {
      await snapshotRollback(ctx, qemuOps, vmidOf(p), snapOf(p));
      if (p['start'] === '1') {
        const { qmStartLocked } = await import('./qm-power.js');
        await qmStartLocked(ctx, vmidOf(p), {});
      }
    }),
  listsnapshot: (ctx, p) => {
    printSnapshotTree(ctx, snapshotList(ctx, 'qemu', vmidOf(p)));
    return 0;
  },
};

export function qmMain(ctx: Ctx, argv: string[]): Promise<number> {
  registerQemuFormats();
  return runPveCli(ctx, 'qm', argv, handlers);
}
