import type { GuestConfig } from './config-file.js';
import type { Ctx } from './ctx.js';
import { errorText } from './errors.js';
import { splitList } from './formats.js';
import { mountType, parseMountPoint } from './lxc-config.js';
import { allocMountPoint, nextUnusedKey } from './lxc-options.js';
import { driveIsCdrom, driveIsCloudinit, isDriveKey, parseDrive } from './qemu-config.js';
import type { GuestType } from './state.js';
import { vdiskFree } from './storage.js';

/**
 * vmconfig_apply_pending as PVE runs it when a guest stops (LXC's post-stop hook, qemu's
 * vm_stop_cleanup) and when it starts (vm_start): pending deletions first, then the pending
 * values; a volume that leaves the config becomes an unusedN entry, a `!opt` deletion (force) of a
 * VM drive frees it. A change that fails stays pending and is reported as "unable to apply
 * pending change", the stop or start goes on. Returns whether the config changed.
 */
export async function applyPendingChanges(ctx: Ctx, type: GuestType, vmid: number, conf: GuestConfig): Promise<boolean> {
  const pend = conf.pending.props;
  if (!Object.keys(pend).length) return false;
  const warn = (opt: string, err: unknown): void => ctx.err(`unable to apply pending change ${opt} : ${errorText(err)}`);

  const deletes = new Map<string, boolean>();
  for (const d of splitList(pend['delete'] ?? '')) deletes.set(d.replace(/^!/, ''), d.startsWith('!'));
  const keep: string[] = [];
  for (const opt of [...deletes.keys()].sort()) {
    try {
      if (type === 'lxc') await dropLxcOption(ctx, conf, opt);
      else await dropVmOption(ctx, conf, opt, deletes.get(opt) === true);
      if (opt === 'description') delete conf.description;
      delete conf.props[opt];
    } catch (err) {
      warn(opt, err);
      keep.push(`${deletes.get(opt) === true ? '!' : ''}${opt}`);
    }
  }
  if (keep.length) pend['delete'] = keep.join(',');
  else delete pend['delete'];

  // cleanup_pending: values equal to the current ones are dropped.
  for (const [opt, v] of Object.entries(pend)) if (opt !== 'delete' && conf.props[opt] === v) delete pend[opt];

  for (const opt of Object.keys(pend).sort()) {
    if (opt === 'delete') continue;
    const value = pend[opt] ?? '';
    try {
      if (type === 'lxc' && /^mp\d+$/.test(opt)) conf.props[opt] = await applyLxcMountPoint(ctx, vmid, conf, opt, value);
      else {
        if (type === 'qemu') replaceVmDrive(conf, opt, value);
        if (opt === 'description') conf.description = value;
        else conf.props[opt] = value;
      }
      delete pend[opt];
    } catch (err) {
      warn(opt, err);
    }
  }
  return true;
}

function addUnused(conf: GuestConfig, volid: string): void {
  if (Object.keys(conf.props).some((k) => /^unused\d+$/.test(k) && conf.props[k] === volid)) return;
  conf.props[nextUnusedKey(conf.props)] = volid;
}

/** True when another key of the config (not `except`) still uses the volume. */
function volumeInUse(conf: GuestConfig, volid: string, except: string, type: GuestType): boolean {
  for (const [k, v] of Object.entries(conf.props)) {
    if (k === except || /^unused\d+$/.test(k)) continue;
    if (type === 'lxc' && (k === 'rootfs' || /^mp\d+$/.test(k)) && parseMountPoint(k, v).volume === volid) return true;
    if (type === 'qemu' && isDriveKey(k) && parseDrive(k, v)?.['file'] === volid) return true;
  }
  return false;
}

async function dropLxcOption(ctx: Ctx, conf: GuestConfig, opt: string): Promise<void> {
  const cur = conf.props[opt];
  if (cur === undefined) return;
  if (/^mp\d+$/.test(opt)) {
    const mp = parseMountPoint(opt, cur);
    if (mountType(mp.volume) === 'volume' && !volumeInUse(conf, mp.volume, opt, 'lxc')) addUnused(conf, mp.volume);
  } else if (/^unused\d+$/.test(opt) && !volumeInUse(conf, cur, opt, 'lxc')) {
    await vdiskFree(ctx.state, cur);
  }
}

/** vmconfig_delete_or_detach_drive: the volume becomes unused, or is freed with force. */
async function dropVmOption(ctx: Ctx, conf: GuestConfig, opt: string, force: boolean): Promise<void> {
  const cur = conf.props[opt];
  if (cur === undefined || !isDriveKey(opt)) return;
  const drive = parseDrive(opt, cur);
  const volid = drive?.['file'];
  if (!drive || driveIsCdrom(drive) || !volid?.includes(':')) return;
  if (force || driveIsCloudinit(drive)) await vdiskFree(ctx.state, volid);
  else addUnused(conf, volid);
}

/** vmconfig_register_unused_drive for a drive a pending value replaces. */
function replaceVmDrive(conf: GuestConfig, opt: string, value: string): void {
  const cur = conf.props[opt];
  if (cur === undefined || !isDriveKey(opt)) return;
  const old = parseDrive(opt, cur);
  const volid = old?.['file'];
  if (!old || driveIsCdrom(old) || driveIsCloudinit(old) || !volid?.includes(':')) return;
  if (parseDrive(opt, value)?.['file'] === volid) return;
  addUnused(conf, volid);
}

/** apply_pending_mountpoint: a new volume is allocated, the one it replaces becomes unused. */
async function applyLxcMountPoint(ctx: Ctx, vmid: number, conf: GuestConfig, opt: string, value: string): Promise<string> {
  const stored = await allocMountPoint(ctx, vmid, opt, value, (l) => ctx.out(`${l}\n`));
  const cur = conf.props[opt];
  if (cur !== undefined) {
    const old = parseMountPoint(opt, cur);
    if (mountType(old.volume) === 'volume' && old.volume !== parseMountPoint(opt, stored).volume && !volumeInUse(conf, old.volume, opt, 'lxc')) {
      addUnused(conf, old.volume);
    }
  }
  return stored;
}
