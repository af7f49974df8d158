import crypto from 'node:crypto';
import type { Params } from '../core/cli-args.js';
import type { GuestConfig } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { die, raiseParamExc } from '../core/errors.js';
import { splitList } from '../core/formats.js';
import { configView, printConfig } from '../guest-common/guest-config-print.js';
import { checkLock, isRunning, loadConfig, lockConfig, writeConfig } from '../guest-common/guest-store.js';
import { addUnused, uniqueTags } from '../guest-common/guest-options.js';
import { loadApiParams } from '../core/data-files.js';
import { isCloudinitOption, isDriveKey, normaliseQemuNet, parseDrive, registerQemuFormats, driveIsCdrom } from './qemu-config.js';
import { checkStorageAccess, createQemuDisks } from './qemu-disks.js';
import { uriUnescape } from '../core/param-mapping.js';
import { validateSshPublicKeys } from '../core/ssh-keys.js';
import { vdiskFree } from '../pvesm/storage.js';

/** qm set / config / pending / unlock (PVE::API2::Qemu update_vm, vm_config). */

const FASTPLUG = new Set(['description', 'hookscript', 'lock', 'name', 'onboot', 'protection', 'shares', 'startup', 'tags', 'vmstatestorage', 'boot', 'agent']);
const HOTPLUG = /^(net\d+|usb\d+|ide\d+|sata\d+|scsi\d+|virtio\d+|efidisk0|tpmstate0|unused\d+)$/;

export const NOT_VM_OPTIONS = new Set(['node', 'vmid', 'digest', 'delete', 'revert', 'skiplock', 'force', 'background_delay', 'skip_cloud_init']);

/** resolve_cdrom_alias: `--cdrom X` is `--ide2 X,media=cdrom`. */
export function resolveCdromAlias(params: Record<string, string>): void {
  const cd = params['cdrom'];
  if (cd === undefined) return;
  delete params['cdrom'];
  params['ide2'] = cd === 'cdrom' || cd === 'none' ? `${cd},media=cdrom` : `${cd},media=cdrom`;
}

/** Options normalised before storing (MAC addresses, tags, the cloud-init password hash). */
export function normaliseVmOption(opt: string, value: string): string {
  if (/^net\d+$/.test(opt)) return normaliseQemuNet(value);
  if (opt === 'tags') return uniqueTags(value);
  if (opt === 'cipassword' && !value.startsWith('$')) {
    const salt = crypto.randomBytes(12).toString('base64').replace(/[^a-zA-Z0-9./]/g, '').slice(0, 16);
    return `$5$${salt}$${crypto.createHash('sha256').update(salt + value).digest('base64').replace(/[^a-zA-Z0-9./]/g, '').slice(0, 43)}`;
  }
  return value;
}

function removeUnused(conf: GuestConfig, volid: string): void {
  for (const k of Object.keys(conf.props)) if (/^unused\d+$/.test(k) && conf.props[k] === volid) delete conf.props[k];
}

function vmOptionExists(opt: string): boolean {
  const props = loadApiParams().endpoints['PUT /nodes/{node}/qemu/{vmid}/config']?.parameters.properties ?? {};
  if (props[opt]) return true;
  const m = /^([a-z]+)(\d+)$/.exec(opt);
  return m !== null && props[`${m[1]}[n]`] !== undefined;
}

function oldVolume(key: string, value: string | undefined): string | undefined {
  if (value === undefined || !isDriveKey(key)) return undefined;
  const d = parseDrive(key, value);
  if (!d || driveIsCdrom(d) || !d['file'] || !d['file'].includes(':')) return undefined;
  return d['file'];
}

export async function qmSet(ctx: Ctx, p: Params): Promise<number> {
  registerQemuFormats();
  const state = ctx.state;
  const vmid = Number(p['vmid']);
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (!NOT_VM_OPTIONS.has(k) && typeof v === 'string') params[k] = v;
  const del = splitList(String(p['delete'] ?? ''));
  const revert = splitList(String(p['revert'] ?? ''));
  if (!Object.keys(params).length && !del.length && !revert.length) die('no options specified');
  if (params['sshkeys'] !== undefined) validateSshPublicKeys(uriUnescape(params['sshkeys']));
  resolveCdromAlias(params);
  for (const opt of del) {
    if (!vmOptionExists(opt)) raiseParamExc([['delete', `unknown option '${opt}'`]]);
    if (params[opt] !== undefined) raiseParamExc([['delete', `you can't use '-${opt}' and -delete ${opt}' at the same time`]]);
  }
  checkStorageAccess(ctx, params, undefined);
  for (const [k, v] of Object.entries(params)) params[k] = normaliseVmOption(k, v);
  await lockConfig(ctx, 'qemu', vmid, async () => {
    const conf = loadConfig(ctx, state, 'qemu', vmid);
    if (p['skiplock'] !== '1') checkLock('qemu', conf);
    const running = isRunning(state, 'qemu', vmid);
    const immediate = (opt: string): boolean => !running || FASTPLUG.has(opt) || HOTPLUG.test(opt) || isCloudinitOption(opt);
    for (const opt of revert) delete conf.pending.props[opt];
    for (const opt of del) {
      const cur = conf.props[opt] ?? conf.pending.props[opt];
      if (cur === undefined) {
        ctx.err(`cannot delete '${opt}' - not set in current configuration!\n`);
        continue;
      }
      if (!immediate(opt)) {
        const list = splitList(conf.pending.props['delete'] ?? '');
        if (!list.includes(opt)) list.push(opt);
        conf.pending.props['delete'] = list.join(',');
        continue;
      }
      if (/^unused\d+$/.test(opt)) {
        if (conf.props['protection'] === '1') die(`can't remove unused disk '${cur}' - protection mode enabled`);
        await vdiskFree(state, cur);
      } else {
        const vol = oldVolume(opt, conf.props[opt]);
        if (vol) addUnused(conf, vol);
      }
      if (opt === 'description') delete conf.description;
      delete conf.props[opt];
    }
    const diskParams: Record<string, string> = {};
    for (const [opt, value] of Object.entries(params)) if (isDriveKey(opt)) diskParams[opt] = value;
    const { res } = await createQemuDisks(ctx, vmid, conf.props, diskParams, undefined, { template: conf.props['template'] === '1' });
    for (const [opt, value0] of Object.entries(params)) {
      const value = isDriveKey(opt) ? (res[opt] ?? value0) : value0;
      if (!immediate(opt)) {
        conf.pending.props[opt] = value;
        continue;
      }
      if (isDriveKey(opt)) {
        const old = oldVolume(opt, conf.props[opt]);
        const nd = parseDrive(opt, value);
        const newVol = nd?.['file'];
        if (old && old !== newVol) addUnused(conf, old);
        if (newVol) removeUnused(conf, newVol);
      }
      if (opt === 'description') conf.description = value;
      else conf.props[opt] = value;
    }
    writeConfig(state, 'qemu', vmid, conf);
  });
  return 0;
}

export function qmConfig(ctx: Ctx, p: Params): number {
  const vmid = Number(p['vmid']);
  const conf = loadConfig(ctx, ctx.state, 'qemu', vmid);
  const opts: { snapshot?: string; current?: boolean } = { current: p['current'] === '1' };
  if (typeof p['snapshot'] === 'string') opts.snapshot = p['snapshot'];
  printConfig(ctx, configView(conf, opts), ['cipassword']);
  return 0;
}

export async function qmUnlock(ctx: Ctx, p: Params): Promise<number> {
  const vmid = Number(p['vmid']);
  await lockConfig(ctx, 'qemu', vmid, () => {
    const conf = loadConfig(ctx, ctx.state, 'qemu', vmid);
    delete conf.props['lock'];
    delete conf.pending.props['lock'];
    writeConfig(ctx.state, 'qemu', vmid, conf);
  });
  return 0;
}
