import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { unpackedSize } from '../pveam/aplinfo.js';
import type { Params } from '../core/cli-args.js';
import { emptyConfig } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { PveException, die, errorText, raiseParamExc } from '../core/errors.js';
import { bestEffort, ensureRootfs, removeGuestDir, setAuthorizedKeys, setHostname, staticIp } from '../guest-common/guest-api.js';
import { checkLock, checkVmidUnused, configExists, destroyConfig, loadConfig, lockConfig, writeConfig } from '../guest-common/guest-store.js';
import { NEW_DISK_RE, detectArch, detectOstype, mountType, parseMountPoint } from './lxc-config.js';
import { allocMountPoint, normaliseOption } from './lxc-options.js';
import { lxcStartLocked } from './pct-power.js';
import { parseVolname, setVolumeUsed, splitVolid, storageCheckEnabled, storageConfig, vdiskFree, volumeFilePath } from '../pvesm/storage.js';
import { validateSshPublicKeys } from '../core/ssh-keys.js';
import { runTask } from '../core/task.js';
import { DURATIONS, LOCK_TIMEOUTS } from '../core/timing.js';

/** pct create (PVE::API2::LXC create_vm). */

/** Parameters that steer the create and are not stored in the config. */
const NOT_CONFIG = new Set([
  'node',
  'vmid',
  'ostemplate',
  'storage',
  'password',
  'ssh-public-keys',
  'start',
  'ha-managed',
  'pool',
  'force',
  'unique',
  'restore',
  'bwlimit',
  'ignore-unpack-errors',
  'unprivileged',
]);

/** check_volume_access + abs_filesystem_path for the template (or backup) archive. */
export function resolveArchive(ctx: Ctx, archive: string, contentType: string): string {
  const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i.exec(archive);
  if (!m) return archive;
  const [sid, volname] = splitVolid(archive);
  const def = storageConfig(ctx.state, sid);
  const v = parseVolname(def, volname);
  if (v.vtype !== contentType) die(`unable to use volume ${archive} - content type needs to be '${contentType}'`);
  return volumeFilePath(def, volname) ?? die(`storage '${sid}' does not support templates`);
}

function sshKeyLines(hostname: string): string[] {
  const out: string[] = [];
  for (const t of ['rsa', 'ecdsa', 'ed25519']) {
    const fp = crypto.randomBytes(32).toString('base64').replace(/=+$/, '');
    out.push(`Creating SSH host key 'ssh_host_${t}_key' - this may take some time ...`);
    out.push(`done: SHA256:${fp} root@${hostname}`);
  }
  return out;
}

export async function pctCreate(ctx: Ctx, p: Params): Promise<number> {
  const state = ctx.state;
  const vmid = Number(p['vmid']);
  const restore = p['restore'] === '1';
  const force = p['force'] === '1';
  if (restore) die('restore from backup is not supported by the emulator');
  const sameExists = configExists(state, 'lxc', vmid);
  if (!(sameExists && restore && force)) checkVmidUnused(state, vmid);
  const sshKeys = typeof p['ssh-public-keys'] === 'string' ? p['ssh-public-keys'] : undefined;
  if (sshKeys !== undefined) validateSshPublicKeys(sshKeys);

  const ostemplate = String(p['ostemplate']);
  const archivePath = resolveArchive(ctx, ostemplate, 'vztmpl');
  const storage = String(p['storage'] ?? 'local');
  const unprivileged = p['unprivileged'] === undefined ? '1' : String(p['unprivileged']);

  const mpParam: Record<string, string> = {};
  const settings: Record<string, string> = {};
  let storageOnly = true;
  for (const [opt, value] of Object.entries(p)) {
    if (typeof value !== 'string' || NOT_CONFIG.has(opt)) continue;
    if (opt === 'rootfs' || /^mp\d+$/.test(opt)) {
      mpParam[opt] = /^\d+(\.\d+)?$/.test(value) ? `${storage}:${value}` : value;
      storageOnly = false;
    } else if (/^unused\d+$/.test(opt)) {
      ctx.err(`ignoring '${opt}', cannot create/restore with unused volume\n`);
    } else {
      settings[opt] = value;
    }
  }
  if (!storageOnly && mpParam['rootfs'] === undefined) die("mount points configured, but 'rootfs' not set - aborting");

  const checkStorage = (sid: string): void => {
    const def = storageCheckEnabled(state, sid);
    if (!def.content.includes('rootdir')) raiseParamExc([['storage', `storage '${sid}' does not support container directories`]]);
  };
  for (const [key, value] of Object.entries(mpParam)) {
    const mp = parseMountPoint(key, value);
    if (mountType(mp.volume) === 'volume') checkStorage(mp.volume.slice(0, mp.volume.indexOf(':')));
  }
  if (mpParam['rootfs'] === undefined) checkStorage(storage);

  const conf = emptyConfig();
  for (const [opt, value] of Object.entries(settings).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (opt === 'description') conf.description = value;
    else conf.props[opt] = normaliseOption(ctx, opt, value);
  }
  if (unprivileged === '1') conf.props['unprivileged'] = '1';

  const emsg = `unable to create CT ${vmid} -`;
  try {
    await lockConfig(
      ctx,
      'lxc',
      vmid,
      () => {
        checkVmidUnused(state, vmid);
        const old = configExists(state, 'lxc', vmid) ? loadConfig(ctx, state, 'lxc', vmid) : emptyConfig();
        checkLock('lxc', old);
        const locked = emptyConfig();
        locked.props['lock'] = 'create';
        writeConfig(state, 'lxc', vmid, locked);
      },
      { timeoutSec: LOCK_TIMEOUTS.create },
    );
  } catch (err) {
    throw new PveException(`${emsg} ${errorText(err)}`);
  }

  return runTask(ctx, 'vzcreate', String(vmid), async () => {
    await lockConfig(ctx, 'lxc', vmid, async () => {
      const vollist: string[] = [];
      try {
        loadConfig(ctx, state, 'lxc', vmid);
        if (storageOnly) mpParam['rootfs'] = `${storage}:4`;
        const clock = state.clock;
        const third = DURATIONS.pctCreate / 10;
        for (const key of ['rootfs', ...Object.keys(mpParam).filter((k) => k !== 'rootfs').sort()]) {
          const value = mpParam[key];
          if (value === undefined) continue;
          const mp = parseMountPoint(key, value);
          const stored = await allocMountPoint(ctx, vmid, key, value, (l) => ctx.out(`${l}\n`));
          if (NEW_DISK_RE.test(mp.volume)) vollist.push(parseMountPoint(key, stored).volume);
          conf.props[key] = stored;
        }
        await clock.sleep(third);
        if (!fs.existsSync(archivePath)) die(`failed to open '${archivePath}': No such file or directory`);
        ctx.out(`extracting archive '${archivePath}'\n`);
        const extract = DURATIONS.pctCreate * 0.7;
        await clock.sleep(extract / 2);
        await ctx.midpoint();
        await clock.sleep(extract / 2);
        const unpacked = unpackedSize(archivePath, fs.statSync(archivePath).size);
        const mib = Math.round(unpacked / 1024 / 1024);
        ctx.out(`Total bytes read: ${unpacked} (${mib}MiB, ${Math.max(1, Math.round(mib / Math.max(extract, 1)))}MiB/s)\n`);
        const rootVol = parseMountPoint('rootfs', conf.props['rootfs'] ?? '').volume;
        if (mountType(rootVol) === 'volume') await setVolumeUsed(state, rootVol, unpacked);
        await bestEffort(state.dir, `CT ${vmid} rootfs`, () => ensureRootfs(state.guestDir(vmid), path.basename(archivePath)));
        if (conf.props['arch'] === undefined) {
          conf.props['arch'] = detectArch(path.basename(archivePath));
          ctx.out(`Detected container architecture: ${conf.props['arch']}\n`);
        }
        conf.props['ostype'] ??= detectOstype(path.basename(archivePath));
        conf.props['hostname'] ||= `CT${vmid}`;
        conf.props['memory'] ||= '512';
        conf.props['swap'] ??= '512';
        if (conf.props['ostype'] !== 'unmanaged') for (const l of sshKeyLines(conf.props['hostname'] ?? '')) ctx.out(`${l}\n`);
        await clock.sleep(DURATIONS.pctCreate - third - extract);
        await bestEffort(state.dir, `CT ${vmid} hostname`, () => setHostname(state.guestDir(vmid), conf.props['hostname'] ?? `CT${vmid}`, staticIp(conf.props['net0'])));
        if (sshKeys !== undefined) await bestEffort(state.dir, `CT ${vmid} ssh keys`, () => setAuthorizedKeys(state.guestDir(vmid), sshKeys));
        writeConfig(state, 'lxc', vmid, conf);
      } catch (err) {
        for (const volid of vollist) {
          try {
            await vdiskFree(state, volid);
          } catch (e) {
            ctx.err(errorText(e));
          }
        }
        destroyConfig(state, 'lxc', vmid);
        removeGuestDir(state.guestDir(vmid));
        throw new PveException(`${emsg} ${errorText(err)}`);
      }
    });
    if (p['start'] === '1') await lxcStartLocked(ctx, vmid, false);
  });
}
