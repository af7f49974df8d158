import type { Params } from '../core/cli-args.js';
import type { ConfSection } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { die } from '../core/errors.js';
import { mountFormat, mountKeys } from './lxc-config.js';
import { pctClone, pctTemplate } from './pct-clone.js';
import { pctConfig, pctPending, pctResize, pctSet, pctUnlock } from './pct-config.js';
import { pctCreate } from './pct-create.js';
import { pctDestroy } from './pct-destroy.js';
import { pctEnter, pctExec, pctPull, pctPush } from './pct-exec.js';
import { lxcStartLocked, lxcStopLocked, pctList, pctReboot, pctResume, pctShutdown, pctStart, pctStatus, pctStop, pctSuspend } from './pct-power.js';
import { tryParsePropertyString } from '../core/property-string.js';
import { runPveCli, type Handler } from '../core/pve-cli.js';
import { printSnapshotTree, snapshotCreate, snapshotDelete, snapshotList, snapshotRollback, type GuestOps } from '../guest-common/snapshots.js';
import { runTask } from '../core/task.js';

/** The `pct` command. */

export const lxcOps: GuestOps = {
  type: 'lxc',
  snapVolumes(section: ConfSection): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const key of mountKeys(section.props)) {
      const mp = tryParsePropertyString(mountFormat(key), section.props[key] ?? '');
      if (mp?.['volume']) out.push([key, mp['volume']]);
    }
    return out;
  },
  stop: (ctx: Ctx, vmid: number) => lxcStopLocked(ctx, vmid, true, false),
};

const vmidOf = (p: Params): number => Number(p['vmid']);
const snapOf = (p: Params): string => String(p['snapname']);

const handlers: Record<string, Handler> = {
  list: (ctx) => pctList(ctx),
  config: pctConfig,
  pending: pctPending,
  set: pctSet,
  resize: pctResize,
  create: pctCreate,
  destroy: pctDestroy,
  start: pctStart,
  stop: pctStop,
  shutdown: pctShutdown,
  reboot: pctReboot,
  suspend: pctSuspend,
  resume: pctResume,
  status: pctStatus,
  unlock: pctUnlock,
  clone: pctClone,
  template: pctTemplate,
  exec: pctExec,
  enter: pctEnter,
  push: pctPush,
  pull: pctPull,
  snapshot: (ctx, p) => {
    const name = snapOf(p);
    if (name === 'current' || name === 'vzdump') die(`unable to use snapshot name '${name}' (reserved name)`);
    const desc = typeof p['description'] === 'string' ? p['description'] : undefined;
    return runTask(ctx, 'vzsnapshot', String(vmidOf(p)), () => snapshotCreate(ctx, lxcOps, vmidOf(p), name, desc));
  },
  delsnapshot: (ctx, p) =>
    runTask(ctx, 'vzdelsnapshot', String(vmidOf(p)), () => snapshotDelete(ctx, lxcOps, vmidOf(p), snapOf(p), p['force'] === '1')),
  rollback: (ctx, p) =>
    runTask(ctx, 'vzrollback', String(vmidOf(p)), async () => {
      await snapshotRollback(ctx, lxcOps, vmidOf(p), snapOf(p));
      if (p['start'] === '1') await lxcStartLocked(ctx, vmidOf(p), false);
    }),
  listsnapshot: (ctx, p) => {
    printSnapshotTree(ctx, snapshotList(ctx, 'lxc', vmidOf(p)));
    return 0;
  },
};

export function pctMain(ctx: Ctx, argv: string[]): Promise<number> {
  return runPveCli(ctx, 'pct', argv, handlers);
}
