import type { Params } from '../core/cli-args.js';
import type { Ctx } from '../core/ctx.js';
import { die } from '../core/errors.js';
import { parseSize, splitList } from '../core/formats.js';
import { configView, guestPending, printConfig } from '../guest-common/guest-config-print.js';
import { checkLock, isRunning, loadConfig, lockConfig, writeConfig } from '../guest-common/guest-store.js';
import { mountType, parseMountPoint, printMountPoint } from './lxc-config.js';
import { checkNoParamConflicts, updateLxcConfig } from './lxc-options.js';
import { loadApiParams } from '../core/data-files.js';
import { parseVolname, splitVolid, storageConfig, volumeResize, volumeSize } from '../pvesm/storage.js';
import { runTask } from '../core/task.js';

/** pct config / set / resize / unlock / pending. */

export function pctConfig(ctx: Ctx, p: Params): number {
  const vmid = Number(p['vmid']);
  const conf = loadConfig(ctx, ctx.state, 'lxc', vmid);
  const opts: { snapshot?: string; current?: boolean } = { current: p['current'] === '1' };
  if (typeof p['snapshot'] === 'string') opts.snapshot = p['snapshot'];
  printConfig(ctx, configView(conf, opts));
  return 0;
}

function lxcOptionExists(opt: string): boolean {
  const props = loadApiParams().endpoints['PUT /nodes/{node}/lxc/{vmid}/config']?.parameters.properties ?? {};
  if (props[opt]) return true;
  const m = /^([a-z]+)(\d+)$/.exec(opt);
  return m !== null && props[`${m[1]}[n]`] !== undefined;
}

const NOT_OPTIONS = new Set(['node', 'vmid', 'digest', 'delete', 'revert']);

export async function pctSet(ctx: Ctx, p: Params): Promise<number> {
  const vmid = Number(p['vmid']);
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (!NOT_OPTIONS.has(k) && typeof v === 'string') params[k] = v;
  if (!Object.keys(params).length && p['delete'] === undefined && p['revert'] === undefined) die('no options specified');
  const del = splitList(String(p['delete'] ?? ''));
  const revert = splitList(String(p['revert'] ?? ''));
  await lockConfig(ctx, 'lxc', vmid, async () => {
    const conf = loadConfig(ctx, ctx.state, 'lxc', vmid);
    checkLock('lxc', conf);
    checkNoParamConflicts(params, del, revert, lxcOptionExists);
    const description = params['description'];
    delete params['description'];
    await updateLxcConfig(ctx, vmid, conf, params, { running: isRunning(ctx.state, 'lxc', vmid), delete: del.filter((d) => d !== 'description'), revert });
    if (description !== undefined) conf.description = description;
    if (del.includes('description')) delete conf.description;
    writeConfig(ctx.state, 'lxc', vmid, conf);
  });
  return 0;
}

export async function pctUnlock(ctx: Ctx, p: Params): Promise<number> {
  const vmid = Number(p['vmid']);
  await lockConfig(ctx, 'lxc', vmid, () => {
    const conf = loadConfig(ctx, ctx.state, 'lxc', vmid);
    if (!conf.props['lock']) die('no lock found trying to remove any lock');
    delete conf.props['lock'];
    writeConfig(ctx.state, 'lxc', vmid, conf);
  });
  return 0;
}

export async function pctResize(ctx: Ctx, p: Params): Promise<number> {
  const vmid = Number(p['vmid']);
  const disk = String(p['disk']);
  let sizestr = String(p['size']);
  const ext = sizestr.startsWith('+');
  if (ext) sizestr = sizestr.slice(1);
  const request = parseSize(sizestr);
  if (request === undefined) die('invalid size string');
  const state = ctx.state;
  const loadAndCheck = (): { volid: string; newsize: number } => {
    const conf = loadConfig(ctx, state, 'lxc', vmid);
    checkLock('lxc', conf);
    const value = conf.props[disk];
    if (value === undefined) die(`unable to parse ${disk === 'rootfs' ? 'rootfs' : 'mount point'} - no value`);
    const mp = parseMountPoint(disk, value);
    if (mountType(mp.volume) !== 'volume') die(`unable to parse volume ID '${mp.volume}'`);
    const [sid, volname] = splitVolid(mp.volume);
    const owner = parseVolname(storageConfig(state, sid), volname).vmid;
    if (owner !== vmid) die(`can't resize mount point owned by another container (${owner ?? ''})`);
    const size = volumeSize(state, mp.volume);
    const newsize = Math.floor(ext ? size + request : request);
    if (newsize < size) die('unable to shrink disk size');
    if (newsize === size) die('disk is already at specified size');
    return { volid: mp.volume, newsize };
  };
  loadAndCheck();
  return runTask(
    ctx,
    'resize',
    String(vmid),
    async () => {
      await lockConfig(ctx, 'lxc', vmid, async () => {
        const { volid, newsize } = loadAndCheck();
        await state.clock.sleepFor('resize');
        await volumeResize(state, volid, newsize);
        const conf = loadConfig(ctx, state, 'lxc', vmid);
        const mp = parseMountPoint(disk, conf.props[disk] ?? '');
        mp.size = String(newsize);
        conf.props[disk] = printMountPoint(disk, mp);
        writeConfig(state, 'lxc', vmid, conf);
      });
    },
    { upidExit: false },
  );
}

export const pctPending = (ctx: Ctx, p: Params): number => guestPending(ctx, p, 'lxc');
