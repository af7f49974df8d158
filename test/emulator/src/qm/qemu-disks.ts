import fs from 'node:fs';
import type { Ctx } from '../core/ctx.js';
import { die, raiseParamExc } from '../core/errors.js';
import { driveIsCloudinit, imageVirtualSize, isDriveKey, parseDrive, printDrive, type Drive } from './qemu-config.js';
import { activateVolume, parseVolname, splitVolid, storageCheckEnabled, storageConfig, vdiskAlloc, vdiskCreateBase, volumeFilePath, volumeSize, volumeExists } from '../pvesm/storage.js';
import { DURATIONS } from '../core/timing.js';

/** create_disks of the qemu API: new disks, imports, cloud-init drives, existing volumes. */

export const NEW_DISK_RE = /^(([^/:\s]+):)?(\d+(\.\d+)?)$/;
const CLOUDINIT_DISK_SIZE = 4 * 1024 * 1024;

/** "3.5 GiB" as PVE's render_bytes prints transfer progress. */
export function renderBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 1 : 1)} ${units[i] ?? 'B'}`;
}

export async function printTransfer(ctx: Ctx, total: number, seconds: number): Promise<void> {
  for (const pct of [0, 25, 50, 75, 100]) {
    if (pct === 50) await ctx.midpoint();
    if (pct > 0) await ctx.state.clock.sleep(seconds / 4);
    ctx.out(`transferred ${renderBytes((total * pct) / 100)} of ${renderBytes(total)} (${pct.toFixed(2)}%)\n`);
  }
}

/** check_storage_access (pre-task): storages of new disks must exist and take VM images. */
export function checkStorageAccess(ctx: Ctx, params: Record<string, string>, defaultStorage: string | undefined): void {
  for (const [key, value] of Object.entries(params)) {
    if (!isDriveKey(key)) continue;
    const d = parseDrive(key, value);
    const file = d?.['file'];
    if (!file || file === 'none' || file === 'cdrom') continue;
    const [sid, volname] = /^([^:]+):(.+)$/.exec(file)?.slice(1) ?? [undefined, file];
    if (volname === 'cloudinit' || file === 'cloudinit') {
      const s = sid ?? defaultStorage;
      if (!s) die('no storage ID specified (and no default storage)');
      storageConfig(ctx.state, s);
      continue;
    }
    const m = NEW_DISK_RE.exec(file);
    if (m) {
      const storeid = m[2] ?? defaultStorage;
      if (!storeid) die('no storage ID specified (and no default storage)');
      const def = storageConfig(ctx.state, storeid);
      if (!def.content.includes('images')) raiseParamExc([['storage', `storage '${storeid}' does not support vm images`]]);
      if (d?.['import-from'] !== undefined && Number(m[3]) !== 0) {
        raiseParamExc([[key, "'import-from' requires special syntax - use <storage ID>:0,import-from=<source>"]]);
      }
    } else if (!file.startsWith('/')) {
      const [s] = splitVolid(file);
      storageConfig(ctx.state, s);
    }
  }
}

function hasCloudinit(props: Record<string, string>, except: string): string | undefined {
  for (const [k, v] of Object.entries(props)) {
    if (k === except || !isDriveKey(k)) continue;
    const d = parseDrive(k, v);
    if (d && driveIsCloudinit(d)) return k;
  }
  return undefined;
}

function defaultFormat(ctx: Ctx, storeid: string): string {
  const def = storageConfig(ctx.state, storeid);
  return def.props['path'] !== undefined && def.type !== 'zfspool' ? 'qcow2' : 'raw';
}

/** Allocates/imports the disks named in `settings`; returns the config values and new volumes. */
export async function createQemuDisks(
  ctx: Ctx,
  vmid: number,
  props: Record<string, string>,
  settings: Record<string, string>,
  defaultStorage: string | undefined,
  opts: { template: boolean },
): Promise<{ res: Record<string, string>; vollist: string[] }> {
  const state = ctx.state;
  const res: Record<string, string> = {};
  const vollist: string[] = [];
  for (const ds of Object.keys(settings).filter(isDriveKey).sort()) {
    const disk: Drive = parseDrive(ds, settings[ds] ?? '') ?? die(`unable to parse drive options for '${ds}'`);
    const volid = disk['file'] ?? '';
    const vm = /^(?:([^:]+):)?(.+)$/.exec(volid);
    const storeid0 = volid.includes(':') ? vm?.[1] : undefined;
    const volname = vm?.[2];
    if (!volid || volid === 'none' || volid === 'cdrom') {
      delete disk['size'];
      res[ds] = printDrive(ds, disk);
      continue;
    }
    if (volname === 'cloudinit') {
      const storeid = storeid0 ?? defaultStorage ?? die('no storage ID specified (and no default storage)');
      const ci = hasCloudinit(props, ds) ?? hasCloudinit(res, ds);
      if (ci) die(`${ds} - cloud-init drive is already attached at '${ci}'`);
      const def = storageCheckEnabled(state, storeid);
      const fmt = disk['format'] ?? (def.props['path'] !== undefined && def.type !== 'zfspool' ? 'qcow2' : 'raw');
      const name = def.props['path'] !== undefined && def.type !== 'zfspool' ? `vm-${vmid}-cloudinit.${fmt}` : `vm-${vmid}-cloudinit`;
      const alloc = await vdiskAlloc(state, storeid, vmid, fmt, name, CLOUDINIT_DISK_SIZE / 1024);
      vollist.push(alloc.volid);
      disk['file'] = alloc.volid;
      disk['media'] = 'cdrom';
      delete disk['format'];
      res[ds] = printDrive(ds, disk);
      ctx.out(`${ds}: successfully created disk '${res[ds] ?? ''}'\n`);
      continue;
    }
    const m = NEW_DISK_RE.exec(volid);
    if (m) {
      const storeid = m[2] ?? defaultStorage ?? die('no storage ID specified (and no default storage)');
      let sizeKiB = Math.round(Number(m[3]) * 1024 * 1024);
      const source = disk['import-from'];
      delete disk['import-from'];
      const fmt = disk['format'] ?? defaultFormat(ctx, storeid);
      let newvol: string;
      if (source !== undefined) {
        let path: string | undefined;
        if (/^[a-z][a-z0-9\-_.]*[a-z0-9]:/i.test(source) && !source.startsWith('/')) {
          const [sid, vn] = splitVolid(source);
          const def = storageConfig(state, sid);
          const v = parseVolname(def, vn);
          if (v.vtype === 'images') {
            if (!volumeExists(state, source)) die(`cannot import from '${source}' - no such volume '${source}'`);
          } else {
            path = volumeFilePath(def, vn);
          }
          if (!path) sizeKiB = Math.ceil(volumeSize(state, source) / 1024);
        } else {
          path = source;
        }
        if (path !== undefined) {
          if (!fs.existsSync(path) || !fs.statSync(path).isFile()) die(`can't find file '${source}'`);
          const size = imageVirtualSize(path);
          if (!size) die(`could not get file size of ${source}`);
          sizeKiB = Math.ceil(size / 1024);
        }
        const alloc = await vdiskAlloc(state, storeid, vmid, fmt, undefined, sizeKiB);
        vollist.push(alloc.volid);
        for (const l of alloc.output) ctx.out(`${l}\n`);
        await printTransfer(ctx, sizeKiB * 1024, DURATIONS.importDisk);
        newvol = alloc.volid;
      } else {
        const alloc = await vdiskAlloc(state, storeid, vmid, fmt, undefined, sizeKiB);
        for (const l of alloc.output) ctx.out(`${l}\n`);
        newvol = alloc.volid;
        vollist.push(newvol);
      }
      if (opts.template) {
        const base = await vdiskCreateBase(state, newvol);
        vollist[vollist.indexOf(newvol)] = base;
        newvol = base;
      }
      disk['file'] = newvol;
      disk['size'] = String(sizeKiB * 1024);
      delete disk['format'];
      res[ds] = printDrive(ds, disk);
      ctx.out(`${ds}: successfully created disk '${res[ds] ?? ''}'\n`);
      continue;
    }
    if (!volid.startsWith('/')) {
      const [sid, vn] = splitVolid(volid);
      const def = storageConfig(state, sid);
      const v = parseVolname(def, vn);
      if (v.vtype !== 'images' && v.vtype !== 'iso') die(`cannot use volume ${volid} - content type needs to be 'images' or 'iso'`);
      if (!driveIsCloudinit(disk)) {
        // activate_volumes, then volume_size_info: a missing ISO ends the create here.
        activateVolume(state, volid);
        disk['size'] = String(volumeSize(state, volid));
      }
    }
    res[ds] = printDrive(ds, disk);
  }
  return { res, vollist };
}
