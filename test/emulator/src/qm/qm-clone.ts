import fs from 'node:fs';
import type { Params } from '../core/cli-args.js';
import { emptyConfig, type GuestConfig } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { PveException, die, errorText, raiseParamExc } from '../core/errors.js';
import { bestEffort, copyRootfs, removeGuestDir, rootfsOf, snapshotRootfs } from '../guest-common/guest-api.js';
import { checkLock, destroyConfig, guestTypeOf, isRunning, isTemplate, loadConfig, lockConfig, removeGuest, writeConfig } from '../guest-common/guest-store.js';
import { nextUnusedKey } from '../guest-common/guest-options.js';
import { driveIsCdrom, driveIsCloudinit, driveKeys, imageVirtualSize, parseDrive, printDrive, regenerateMac, registerQemuFormats, vmDiskVolumes } from './qemu-config.js';
import { printTransfer } from './qemu-disks.js';
import { uuid } from './qm-create.js';
import { parseVolname, splitVolid, storageCheckEnabled, storageConfig, vdiskAlloc, vdiskClone, vdiskCopy, vdiskCreateBase, vdiskFree, volumeHasFeature, volumeSize, volumeResize } from '../pvesm/storage.js';
import { runTask } from '../core/task.js';
import { DURATIONS, LOCK_TIMEOUTS } from '../core/timing.js';

/** qm clone / template / destroy / importdisk / resize. */

interface ClonePlan {
  newconf: GuestConfig;
  drives: Record<string, Record<string, string>>;
  full: Record<string, boolean>;
  oldName: string | undefined;
}

export async function qmClone(ctx: Ctx, p: Params): Promise<number> {
  registerQemuFormats();
  const state = ctx.state;
  const vmid = Number(p['vmid']);
  const newid = Number(p['newid']);
  const snapname = typeof p['snapname'] === 'string' ? p['snapname'] : undefined;
  const storage = typeof p['storage'] === 'string' ? p['storage'] : undefined;
  const format = typeof p['format'] === 'string' ? p['format'] : undefined;
  const running = isRunning(state, 'qemu', vmid);

  const loadAndCheck = (): ClonePlan => {
    if (storage) {
      const def = storageCheckEnabled(state, storage);
      if (!def.content.includes('images')) raiseParamExc([['storage', `storage '${storage}' does not support vm images`]]);
    }
    const conf = loadConfig(ctx, state, 'qemu', vmid);
    checkLock('qemu', conf);
    if (isRunning(state, 'qemu', vmid) !== running) die('unexpected state change');
    if (snapname && !conf.snapshots[snapname]) die(`snapshot '${snapname}' does not exist`);
    const full = p['full'] === undefined ? !isTemplate(conf) : p['full'] === '1';
    if (storage !== undefined && !full) die("parameter 'storage' not allowed for linked clones");
    if (format !== undefined && !full) die("parameter 'format' not allowed for linked clones");
    const old = snapname ? (conf.snapshots[snapname] ?? conf) : conf;
    if (guestTypeOf(state, newid)) die(`unable to create VM ${newid}: config file already exists`);
    const newconf = emptyConfig();
    newconf.props['lock'] = 'clone';
    const drives: Record<string, Record<string, string>> = {};
    const fullclone: Record<string, boolean> = {};
    for (const opt of Object.keys(old.props).sort()) {
      if (['parent', 'snaptime', 'vmstate', 'snapstate', 'runningcpu', 'runningmachine', 'running-nets-host-mtu', 'digest'].includes(opt)) continue;
      if (/^unused\d+$/.test(opt)) continue;
      const value = old.props[opt] ?? '';
      if (full && running && !snapname && opt === 'tpmstate0') die('cannot clone TPM state while VM is running');
      if (/^net\d+$/.test(opt)) {
        newconf.props[opt] = regenerateMac(value);
      } else if (driveKeys({ [opt]: value }).length) {
        const drive = parseDrive(opt, value);
        if (!drive) die(`unable to parse drive options for '${opt}'`);
        if (driveIsCdrom(drive, true)) {
          newconf.props[opt] = value;
          continue;
        }
        const volid = drive['file'] ?? '';
        const msg = `clone feature is not supported for${snapname ? ' a snapshot of' : ''} '${volid}' (${opt})`;
        if (full || driveIsCloudinit(drive) || opt === 'tpmstate0') {
          if (!volumeHasFeature(state, 'copy', volid, snapname)) die(`Full ${msg}`);
          fullclone[opt] = true;
        } else if (!volumeHasFeature(state, 'clone', volid, snapname)) {
          die(`Linked ${msg}`);
        }
        drives[opt] = drive;
      } else {
        newconf.props[opt] = value;
      }
    }
    // As clone_vm copies every key of the old section, a snapshot's comment becomes the description.
    if (old.description !== undefined) newconf.description = old.description;
    return { newconf, drives, full: fullclone, oldName: old.props['name'] };
  };
  loadAndCheck();

  const clonefn = async (): Promise<void> => {
    const plan = loadAndCheck();
    const newconf = plan.newconf;
    ctx.out(`creating a clone of VM ${vmid} with ID ${newid}\n`);
    const smbios = (newconf.props['smbios1'] ?? '').split(',').filter((x) => x && !x.startsWith('uuid='));
    newconf.props['smbios1'] = [`uuid=${uuid()}`, ...smbios].join(',');
    if (newconf.props['vmgenid']) newconf.props['vmgenid'] = uuid();
    delete newconf.props['template'];
    newconf.props['name'] = typeof p['name'] === 'string' ? p['name'] : `Copy-of-VM-${plan.oldName ?? vmid}`;
    if (typeof p['description'] === 'string') newconf.description = p['description'];
    fs.mkdirSync(state.file('qemu-server'), { recursive: true });
    fs.writeFileSync(state.confFile('qemu', newid), '# qmclone temporary file\nlock: clone\n');
    const newvols: string[] = [];
    try {
      const keys = Object.keys(plan.drives).sort();
      let first = true;
      for (const opt of keys) {
        const drive = plan.drives[opt] ?? {};
        const volid = drive['file'] ?? '';
        let newvol: string;
        if (plan.full[opt]) {
          ctx.out(`create full clone of drive ${opt} (${volid})\n`);
          const [sid] = splitVolid(volid);
          const target = storage ?? sid;
          const tdef = storageConfig(state, target);
          const fileBased = tdef.props['path'] !== undefined && tdef.type !== 'zfspool';
          const ciName = driveIsCloudinit(drive) ? `vm-${newid}-cloudinit${fileBased ? '.qcow2' : ''}` : undefined;
          const res = await vdiskCopy(state, volid, target, newid, ciName && fileBased ? 'qcow2' : format, ciName);
          newvol = res.volid;
          newvols.push(newvol);
          const size = volumeSize(state, volid);
          if (driveIsCloudinit(drive)) {
            await state.clock.sleep(0.2);
          } else {
            await printTransfer(ctx, size, first ? DURATIONS.qmFullClone : 2);
            first = false;
          }
        } else {
          ctx.out(`create linked clone of drive ${opt} (${volid})\n`);
          newvol = await vdiskClone(state, volid, newid, snapname);
          newvols.push(newvol);
          if (first) {
            await state.clock.sleep(DURATIONS.linkedClone / 2);
            await ctx.midpoint();
            await state.clock.sleep(DURATIONS.linkedClone / 2);
            first = false;
          }
        }
        newconf.props[opt] = printDrive(opt, { ...drive, file: newvol });
        writeConfig(state, 'qemu', newid, newconf);
      }
      if (first) await ctx.midpoint();
      const src = snapname ? snapshotRootfs(state.guestDir(vmid), snapname) : rootfsOf(state.guestDir(vmid));
      await bestEffort(state.dir, `VM ${newid} rootfs copy`, () => copyRootfs(src, rootfsOf(state.guestDir(newid))));
      delete newconf.props['lock'];
      writeConfig(state, 'qemu', newid, newconf);
    } catch (err) {
      for (const v of newvols) {
        try {
          await vdiskFree(state, v);
        } catch (e) {
          ctx.err(errorText(e));
        }
      }
      destroyConfig(state, 'qemu', newid);
      removeGuestDir(state.guestDir(newid));
      throw new PveException(`clone failed: ${errorText(err)}`);
    }
  };

  return runTask(ctx, 'qmclone', String(vmid), () =>
    lockConfig(ctx, 'qemu', vmid, () => lockConfig(ctx, 'qemu', newid, clonefn, { timeoutSec: LOCK_TIMEOUTS.qmClone }), {
      timeoutSec: LOCK_TIMEOUTS.qmClone,
      shared: !running,
    }),
  );
}

export async function qmTemplate(ctx: Ctx, p: Params): Promise<number> {
  registerQemuFormats();
  const state = ctx.state;
  const vmid = Number(p['vmid']);
  const disk = typeof p['disk'] === 'string' ? p['disk'] : undefined;
  let code = 0;
  await lockConfig(ctx, 'qemu', vmid, async () => {
    const conf = loadConfig(ctx, state, 'qemu', vmid);
    checkLock('qemu', conf);
    if (Object.keys(conf.snapshots).length) die('unable to create template, because VM contains snapshots');
    if (isTemplate(conf) && !disk) die("you can't convert a template to a template");
    if (isRunning(state, 'qemu', vmid)) die("you can't convert a VM to template if VM is running");
    code = await runTask(
      ctx,
      'qmtemplate',
      String(vmid),
      async () => {
        await state.clock.sleepFor('template');
        for (const key of driveKeys(conf.props)) {
          if (disk && key !== disk) continue;
          const d = parseDrive(key, conf.props[key] ?? '');
          if (!d || driveIsCdrom(d) || !d['file']?.includes(':')) continue;
          if (!volumeHasFeature(state, 'template', d['file'])) continue;
          const base = await vdiskCreateBase(state, d['file']);
          conf.props[key] = printDrive(key, { ...d, file: base });
          writeConfig(state, 'qemu', vmid, conf);
        }
        conf.props['template'] = '1';
        writeConfig(state, 'qemu', vmid, conf);
      },
      { upidExit: false },
    );
  });
  return code;
}

export async function qmDestroy(ctx: Ctx, p: Params): Promise<number> {
  registerQemuFormats();
  const state = ctx.state;
  const vmid = Number(p['vmid']);
  const skiplock = p['skiplock'] === '1';
  const early = (conf: GuestConfig): void => {
    if (!skiplock) checkLock('qemu', conf);
    if (conf.props['protection'] === '1') die(`can't remove VM ${vmid} - protection mode enabled`);
    if (isRunning(state, 'qemu', vmid)) die(`VM ${vmid} is running - destroy failed`);
  };
  early(loadConfig(ctx, state, 'qemu', vmid));
  return runTask(ctx, 'qmdestroy', String(vmid), async () => {
    await lockConfig(ctx, 'qemu', vmid, async () => {
      const conf = loadConfig(ctx, state, 'qemu', vmid);
      early(conf);
      await state.clock.sleep(1);
      await ctx.midpoint();
      const vols = new Set<string>();
      for (const [, v] of vmDiskVolumes(conf, { withCloudinit: true })) vols.add(v);
      for (const [k, v] of Object.entries(conf.props)) if (/^unused\d+$/.test(k)) vols.add(v);
      for (const s of Object.values(conf.snapshots)) for (const [, v] of vmDiskVolumes(s, { withCloudinit: false })) vols.add(v);
      for (const v of vols) {
        try {
          await vdiskFree(state, v);
        } catch (err) {
          const t = errorText(err);
          if (/still in use by linked clones/.test(t)) die(t.replace('linked clones', 'linked cloned'));
          throw err;
        }
      }
      await removeGuest(ctx, 'qemu', vmid, p['purge'] === '1');
    });
  });
}

export async function qmImportDisk(ctx: Ctx, p: Params): Promise<number> {
  registerQemuFormats();
  const state = ctx.state;
  const vmid = Number(p['vmid']);
  const source = String(p['source']);
  const storeid = String(p['storage']);
  let conf = loadConfig(ctx, state, 'qemu', vmid);
  checkLock('qemu', conf);
  if (!fs.existsSync(source) || !fs.statSync(source).isFile()) die(`${source}: non-existent or non-regular file`);
  const def = storageCheckEnabled(state, storeid);
  if (!def.content.includes('images')) die(`storage ${storeid} does not support vm images`);
  ctx.out(`importing disk '${source}' to VM ${vmid} ...\n`);
  const size = imageVirtualSize(source);
  const fmt = typeof p['format'] === 'string' ? p['format'] : def.props['path'] !== undefined && def.type !== 'zfspool' ? 'qcow2' : 'raw';
  const alloc = await vdiskAlloc(state, storeid, vmid, fmt, undefined, Math.ceil(size / 1024));
  for (const l of alloc.output) ctx.out(`${l}\n`);
  await printTransfer(ctx, size, DURATIONS.importDisk);
  let key = '';
  await lockConfig(ctx, 'qemu', vmid, () => {
    conf = loadConfig(ctx, state, 'qemu', vmid);
    const target = typeof p['target-disk'] === 'string' && driveKeys({ [p['target-disk']]: 'x' }).length ? p['target-disk'] : undefined;
    if (target) {
      const old = conf.props[target];
      const od = old ? parseDrive(target, old) : undefined;
      if (od?.['file'] && !driveIsCdrom(od)) conf.props[nextUnusedKey(conf.props)] = od['file'];
      key = target;
      conf.props[target] = printDrive(target, { file: alloc.volid, size: String(size) });
    } else {
      key = nextUnusedKey(conf.props);
      conf.props[key] = alloc.volid;
    }
    writeConfig(state, 'qemu', vmid, conf);
  });
  ctx.out(`${key}: successfully imported disk '${conf.props[key] ?? ''}'\n`);
  return 0;
}

export function qmResize(ctx: Ctx, p: Params): Promise<number> {
  registerQemuFormats();
  const state = ctx.state;
  const vmid = Number(p['vmid']);
  const disk = String(p['disk']);
  const sizestr = String(p['size']);
  return runTask(
    ctx,
    'resize',
    String(vmid),
    () =>
      lockConfig(ctx, 'qemu', vmid, async () => {
        const conf = loadConfig(ctx, state, 'qemu', vmid);
        if (p['skiplock'] !== '1') checkLock('qemu', conf);
        const value = conf.props[disk];
        if (!value) die(`disk '${disk}' does not exist`);
        const drive = parseDrive(disk, value) ?? die(`unable to parse drive options for '${disk}'`);
        const volid = drive['file'];
        if (!volid) die(`disk '${disk}' has no associated volume`);
        if (driveIsCdrom(drive)) die("you can't resize a cdrom");
        const [sid, vn] = splitVolid(volid);
        parseVolname(storageConfig(state, sid), vn);
        const size = volumeSize(state, volid);
        const m = /^(\+)?(\d+(\.\d+)?)([KMGT])?$/.exec(sizestr);
        if (!m) die('internal error');
        const mult: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
        let newsize = Number(m[2]) * (mult[m[4] ?? ''] ?? 1);
        if (m[1]) newsize += size;
        newsize = Math.floor(newsize);
        if (newsize < size) die('shrinking disks is not supported');
        if (newsize === size) return;
        await state.clock.sleepFor('resize');
        await volumeResize(state, volid, newsize);
        drive['size'] = String(newsize);
        conf.props[disk] = printDrive(disk, drive);
        writeConfig(state, 'qemu', vmid, conf);
      }),
    { upidExit: false },
  );
}
