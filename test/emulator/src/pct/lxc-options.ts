import type { GuestConfig } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { die, raiseParamExc } from '../core/errors.js';
import { isIP, splitList } from '../core/formats.js';
import { addUnused, uniqueTags } from '../guest-common/guest-options.js';
import {
  NEW_DISK_RE,
  mountType,
  normaliseNet,
  parseMountPoint,
  printMountPoint,
  type MountPoint,
} from './lxc-config.js';
import { storageCheckEnabled, vdiskAlloc, vdiskFree } from '../pvesm/storage.js';

/** Applying `pct create`/`pct set` options to a container config (update_pct_config). */

/** Options that never go to the pending section (LXC_FASTPLUG_OPTIONS). */
const FASTPLUG = new Set(['description', 'onboot', 'startup', 'protection', 'hostname', 'hookscript', 'cores', 'tags', 'lock']);
/** Options a running container applies at once (cgroup or veth changes). */
const HOTPLUG = /^(cpulimit|cpuunits|memory|swap|net\d+)$/;

function nameserverList(value: string): string {
  const list = splitList(value);
  for (const s of list) {
    const m = /^(fe80:[^%]+)%(.*)$/.exec(s);
    if (!(m ? isIP(m[1] ?? '') : isIP(s))) die('value does not look like a valid IP address');
  }
  return list.join(' ');
}

/** Normalises a value the way update_pct_config does before storing it. */
export function normaliseOption(ctx: Ctx, opt: string, value: string): string {
  if (/^mp\d+$/.test(opt) || opt === 'rootfs') {
    const mp = parseMountPoint(opt, value);
    if (mountType(mp.volume) === 'volume' && !NEW_DISK_RE.test(mp.volume)) {
      const sid = mp.volume.slice(0, mp.volume.indexOf(':'));
      const def = storageCheckEnabled(ctx.state, sid);
      if (!def.content.includes('rootdir')) die(`storage '${sid}' does not allow content type 'rootdir' (Container)`);
    }
    return value;
  }
  if (opt === 'nameserver') return nameserverList(value);
  if (opt === 'searchdomain') return splitList(value).join(' ');
  if (opt === 'tags') return uniqueTags(value);
  if (/^net\d+$/.test(opt)) return normaliseNet(value);
  if (/^dev\d+$/.test(opt)) {
    const m = /^(?:path=)?([^,]+)/.exec(value);
    if (!m || !(m[1] ?? '').startsWith('/dev/')) die(`Path is not defined for passthrough device ${opt}`);
  }
  return value;
}

/** Allocates a new volume for a `STORAGE:SIZE` mount point value and returns the stored value. */
export async function allocMountPoint(ctx: Ctx, vmid: number, key: string, value: string, out: (line: string) => void): Promise<string> {
  const mp: MountPoint = parseMountPoint(key, value);
  const m = NEW_DISK_RE.exec(mp.volume);
  if (!m || mountType(mp.volume) !== 'volume') return printMountPoint(key, mp);
  const storeid = m[1] ?? '';
  const sizeKiB = Math.floor(Number(m[2]) * 1024) * 1024;
  const def = storageCheckEnabled(ctx.state, storeid);
  if (!def.content.includes('rootdir')) die(`storage '${storeid}' does not allow content type 'rootdir' (Container)`);
  const fmt = def.type === 'zfspool' || (def.props['path'] !== undefined && sizeKiB === 0) ? 'subvol' : 'raw';
  const res = await vdiskAlloc(ctx.state, storeid, vmid, fmt, undefined, sizeKiB);
  for (const l of res.output) out(l);
  if (fmt === 'raw') {
    const blocks = sizeKiB / 4;
    out(`Creating filesystem with ${blocks} 4k blocks and ${Math.floor(blocks / 4)} inodes`);
  }
  mp.volume = res.volid;
  mp.size = String(sizeKiB * 1024);
  return printMountPoint(key, mp);
}

export interface SetOptions {
  running: boolean;
  delete: string[];
  revert: string[];
}

/**
 * update_pct_config for `pct set` (and the non-disk part of `pct create`). Changes that a
 * running container cannot take at once stay in the pending section, as on PVE.
 */
export async function updateLxcConfig(
  ctx: Ctx,
  vmid: number,
  conf: GuestConfig,
  params: Record<string, string>,
  opts: SetOptions,
): Promise<void> {
  const pending = conf.pending.props;
  for (const opt of opts.revert) {
    delete pending[opt];
    removeFromPendingDelete(conf, opt);
  }
  const deletes: string[] = [];
  for (const opt of opts.delete) {
    if (conf.props[opt] === undefined && pending[opt] === undefined) {
      ctx.err(`cannot delete '${opt}' - not set in current configuration!\n`);
      continue;
    }
    if (opt === 'memory' || opt === 'rootfs' || opt === 'ostype') die(`unable to delete required option '${opt}'`);
    if (/^(unused|mp)\d+$/.test(opt) && conf.props['protection'] === '1') die(`can't remove CT ${vmid} drive '${opt}' - protection mode enabled`);
    if (opt === 'unprivileged') die(`unable to delete read-only option: '${opt}'`);
    deletes.push(opt);
  }
  const values: Record<string, string> = {};
  for (const opt of Object.keys(params).sort()) {
    const value = params[opt] ?? '';
    if ((/^mp\d+$/.test(opt) || opt === 'rootfs') && conf.props['protection'] === '1') {
      die(`can't update CT ${vmid} drive '${opt}' - protection mode enabled`);
    }
    if (opt === 'unprivileged') die(`unable to modify read-only option: '${opt}'`);
    values[opt] = normaliseOption(ctx, opt, value);
  }

  const immediate = (opt: string): boolean => !opts.running || FASTPLUG.has(opt) || HOTPLUG.test(opt) || (/^(mp|dev)\d+$/.test(opt) && conf.props[opt] === undefined);

  for (const opt of deletes) {
    if (!immediate(opt)) {
      const list = splitList(pending['delete'] ?? '');
      if (!list.includes(opt)) list.push(opt);
      pending['delete'] = list.join(',');
      continue;
    }
    const old = conf.props[opt];
    if (old !== undefined && /^mp\d+$/.test(opt)) {
      const mp = parseMountPoint(opt, old);
      if (mountType(mp.volume) === 'volume') addUnused(conf, mp.volume);
    } else if (old !== undefined && /^unused\d+$/.test(opt)) {
      await vdiskFree(ctx.state, old);
    }
    delete conf.props[opt];
    delete pending[opt];
  }
  for (const [opt, value] of Object.entries(values)) {
    removeFromPendingDelete(conf, opt);
    if (!immediate(opt)) {
      pending[opt] = value;
      continue;
    }
    delete pending[opt];
    if (/^mp\d+$/.test(opt) || opt === 'rootfs') {
      const old = conf.props[opt];
      const stored = await allocMountPoint(ctx, vmid, opt, value, (l) => ctx.err(`${l}\n`));
      if (old !== undefined) {
        const oldMp = parseMountPoint(opt, old);
        const newMp = parseMountPoint(opt, stored);
        if (mountType(oldMp.volume) === 'volume' && oldMp.volume !== newMp.volume) addUnused(conf, oldMp.volume);
      }
      conf.props[opt] = stored;
    } else {
      conf.props[opt] = value;
    }
  }
}

function removeFromPendingDelete(conf: GuestConfig, opt: string): void {
  const cur = conf.pending.props['delete'];
  if (cur === undefined) return;
  const list = splitList(cur).filter((o) => o !== opt && o !== `!${opt}`);
  if (list.length) conf.pending.props['delete'] = list.join(',');
  else delete conf.pending.props['delete'];
}

export function checkNoParamConflicts(params: Record<string, string>, del: string[], revert: string[], optionExists: (o: string) => boolean): void {
  for (const opt of revert) {
    if (!optionExists(opt)) raiseParamExc([['revert', `unknown option '${opt}'`]]);
    if (params[opt] !== undefined) raiseParamExc([['revert', `you can't use '-${opt}' and '-revert ${opt}' at the same time`]]);
  }
  for (const opt of del) {
    if (!optionExists(opt)) raiseParamExc([['delete', `unknown option '${opt}'`]]);
    if (params[opt] !== undefined) raiseParamExc([['delete', `you can't use '-${opt}' and -delete ${opt}' at the same time`]]);
    if (revert.includes(opt)) raiseParamExc([['delete', `you can't use '-delete ${opt}' and '-revert ${opt}' at the same time`]]);
  }
}
