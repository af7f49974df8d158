import type { Params } from '../core/cli-args.js';
import type { GuestConfig } from '../core/config-file.js';
import { emptyConfig } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { die, errorText, PveException } from '../core/errors.js';
import { bestEffort, copyRootfs, removeGuestDir, rootfsOf, setHostname, snapshotRootfs, staticIp } from '../guest-common/guest-api.js';
import { checkLock, configExists, createAndLockConfig, destroyConfig, isRunning, isTemplate, loadConfig, lockConfig, removeLock, writeConfig } from '../guest-common/guest-store.js';
import { mountType, parseMountPoint, printMountPoint, netFormat, type MountPoint } from './lxc-config.js';
import { randomMac } from '../guest-common/guest-options.js';
import { parsePropertyString, printPropertyString } from '../core/property-string.js';
import { allocMountPoint } from './lxc-options.js';
import { setVolumeUsed, splitVolid, storageCheckEnabled, storageConfig, vdiskClone, vdiskFree, volumeHasFeature, volumeSize, volumeUsed } from '../pvesm/storage.js';
import { runTask } from '../core/task.js';
import { DURATIONS } from '../core/timing.js';

/** pct clone (PVE::API2::LXC clone_vm) and pct template. */

/** AbstractConfig::set_lock. */
async function setLock(ctx: Ctx, vmid: number, lock: string): Promise<GuestConfig> {
  return lockConfig(ctx, 'lxc', vmid, () => {
    const conf = loadConfig(ctx, ctx.state, 'lxc', vmid);
    checkLock('lxc', conf);
    conf.props['lock'] = lock;
    writeConfig(ctx.state, 'lxc', vmid, conf);
    return conf;
  });
}

export async function pctClone(ctx: Ctx, p: Params): Promise<number> {
  const state = ctx.state;
  const vmid = Number(p['vmid']);
  const newid = Number(p['newid']);
  const snapname = typeof p['snapname'] === 'string' ? p['snapname'] : undefined;
  const storage = typeof p['storage'] === 'string' ? p['storage'] : undefined;
  if (storage) storageCheckEnabled(state, storage);

  const lockAndReload = async <T>(fn: (conf: GuestConfig) => T | Promise<T>): Promise<T> =>
    lockConfig(ctx, 'lxc', newid, async () => {
      const conf = loadConfig(ctx, state, 'lxc', newid);
      if (conf.props['lock'] !== 'create') die("Lost 'create' config lock, aborting.");
      return fn(conf);
    });

  const srcConf = await setLock(ctx, vmid, 'disk');
  try {
    await createAndLockConfig(ctx, 'lxc', newid);
  } catch (err) {
    try {
      await removeLock(ctx, vmid, 'disk');
    } catch (e) {
      ctx.err(`Failed to remove source CT config lock - ${errorText(e)}`);
    }
    throw err;
  }

  const mountpoints: Record<string, MountPoint> = {};
  const full: Record<string, boolean> = {};
  let running = false;
  let newconf: GuestConfig = emptyConfig();
  try {
    running = isRunning(state, 'lxc', vmid);
    const doFull = p['full'] === undefined ? !isTemplate(srcConf) : p['full'] === '1';
    if (storage !== undefined && !doFull) die("parameter 'storage' not allowed for linked clones");
    if (snapname && !srcConf.snapshots[snapname]) die(`snapshot '${snapname}' does not exist`);
    const src = snapname ? (srcConf.snapshots[snapname] ?? srcConf) : srcConf;
    newconf = emptyConfig();
    for (const opt of Object.keys(src.props).sort()) {
      if (/^unused\d+$/.test(opt)) continue;
      const value = src.props[opt] ?? '';
      if (opt === 'rootfs' || /^mp\d+$/.test(opt)) {
        const mp = parseMountPoint(opt, value);
        const type = mountType(mp.volume);
        if (type !== 'volume') die(`unable to clone mountpoint '${opt}' (type ${type})`);
        const [sid] = splitVolid(mp.volume);
        storageConfig(state, storage ?? sid);
        if (doFull) {
          if (running && !snapname) die('Full clone of a running container is only possible from a snapshot');
          full[opt] = true;
        } else if (!volumeHasFeature(state, 'clone', mp.volume, snapname, ['raw', 'subvol'])) {
          die(`Linked clone feature for '${mp.volume}' is not available`);
        }
        mountpoints[opt] = mp;
      } else if (/^net\d+$/.test(opt)) {
        const net = parsePropertyString(netFormat(), value);
        net['hwaddr'] = randomMac();
        newconf.props[opt] = printPropertyString(net, netFormat());
      } else {
        newconf.props[opt] = value;
      }
    }
    newconf.lxc = [...src.lxc];
    // Every key of the source section is copied: a snapshot's description is the comment given
    // to `pct snapshot` (snapshot_prepare never copies the CT's own description into it).
    if (src.description !== undefined) newconf.description = src.description;
    newconf.props['lock'] = 'create';
    for (const k of ['parent', 'snaptime', 'snapstate', 'template', 'digest']) delete newconf.props[k];
    if (typeof p['hostname'] === 'string') newconf.props['hostname'] = p['hostname'];
    if (typeof p['description'] === 'string') newconf.description = p['description'];
    await lockAndReload(() => writeConfig(state, 'lxc', newid, newconf));
  } catch (err) {
    try {
      await removeLock(ctx, vmid, 'disk');
    } catch (e) {
      ctx.err(`Failed to remove source CT config lock - ${errorText(e)}`);
    }
    try {
      if (configExists(state, 'lxc', newid)) await lockAndReload(() => destroyConfig(state, 'lxc', newid));
    } catch (e) {
      ctx.err(`Failed to remove target CT config - ${errorText(e)}`);
    }
    throw err;
  }

  return runTask(ctx, 'vzclone', String(vmid), async () => {
    const newvols: string[] = [];
    ctx.out(`creating a clone of container ${vmid} with ID ${newid}\n`);
    let error: unknown;
    try {
      if (isRunning(state, 'lxc', vmid) !== running) die('unexpected state change');
      const anyFull = Object.values(full).some(Boolean);
      const total = anyFull ? DURATIONS.pctFullClone : DURATIONS.linkedClone;
      await state.clock.sleep(total / 2);
      await ctx.midpoint();
      for (const [opt, mp] of Object.entries(mountpoints)) {
        let newvolid: string;
        if (full[opt]) {
          ctx.out(`create full clone of mountpoint ${opt} (${mp.volume})\n`);
          const [sid] = splitVolid(mp.volume);
          const target = storage ?? sid;
          const size = volumeSize(state, mp.volume);
          const stored = await allocMountPoint(ctx, newid, opt, `${target}:${size / 1024 ** 3}`, (l) => ctx.out(`${l}\n`));
          newvolid = parseMountPoint(opt, stored).volume;
          await setVolumeUsed(state, newvolid, volumeUsed(state, mp.volume));
        } else {
          ctx.out(`create linked clone of mount point ${opt} (${mp.volume})\n`);
          newvolid = await vdiskClone(state, mp.volume, newid, snapname);
        }
        newvols.push(newvolid);
        const nmp: MountPoint = { ...mp, volume: newvolid };
        await lockAndReload((conf) => {
          conf.props[opt] = printMountPoint(opt, nmp);
          writeConfig(state, 'lxc', newid, conf);
        });
      }
      const srcRootfs = snapname ? snapshotRootfs(state.guestDir(vmid), snapname) : rootfsOf(state.guestDir(vmid));
      await bestEffort(state.dir, `CT ${newid} rootfs copy`, () => copyRootfs(srcRootfs, rootfsOf(state.guestDir(newid))));
      await bestEffort(state.dir, `CT ${newid} hostname`, () => setHostname(state.guestDir(newid), newconf.props['hostname'] ?? `CT${newid}`, staticIp(newconf.props['net0'])));
      await state.clock.sleep(total / 2);
    } catch (err) {
      error = err;
    }
    try {
      await removeLock(ctx, vmid, 'disk');
    } catch (e) {
      ctx.err(errorText(e));
    }
    if (error !== undefined) {
      for (const volid of newvols) {
        try {
          await vdiskFree(state, volid);
        } catch (e) {
          ctx.err(errorText(e));
        }
      }
      try {
        await lockAndReload(() => destroyConfig(state, 'lxc', newid));
      } catch (e) {
        ctx.err(`Failed to remove target CT config - ${errorText(e)}`);
      }
      removeGuestDir(state.guestDir(newid));
      throw new PveException(`clone failed: ${errorText(error)}`);
    }
    await lockAndReload(async () => {
      await removeLock(ctx, newid, 'create');
    });
  });
}

export async function pctTemplate(ctx: Ctx, p: Params): Promise<number> {
  const state = ctx.state;
  const vmid = Number(p['vmid']);
  let code = 0;
  await lockConfig(ctx, 'lxc', vmid, async () => {
    const conf = loadConfig(ctx, state, 'lxc', vmid);
    checkLock('lxc', conf);
    if (Object.keys(conf.snapshots).length) die('unable to create template, because CT contains snapshots');
    if (isTemplate(conf)) die("you can't convert a template to a template");
    if (isRunning(state, 'lxc', vmid)) die("you can't convert a CT to template if the CT is running");
    code = await runTask(
      ctx,
      'vztemplate',
      String(vmid),
      async () => {
        const { configVolumes } = await import('./lxc-config.js');
        const vols = configVolumes(conf.props);
        for (const [, mp] of vols) {
          if (!volumeHasFeature(state, 'template', mp.volume)) die(`Template feature is not available for '${mp.volume}'`);
        }
        await state.clock.sleepFor('template');
        const { vdiskCreateBase } = await import('../pvesm/storage.js');
        for (const [key, mp] of vols) {
          const newvol = await vdiskCreateBase(state, mp.volume);
          conf.props[key] = printMountPoint(key, { ...mp, volume: newvol });
        }
        conf.props['template'] = '1';
        writeConfig(state, 'lxc', vmid, conf);
      },
      { upidExit: false },
    );
  });
  return code;
}
