import type { Params } from '../core/cli-args.js';
import type { GuestConfig } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { die } from '../core/errors.js';
import { checkLock, isRunning, loadConfig, lockConfig, removeGuest, setStopped } from '../guest-common/guest-store.js';
import { configVolumes, mountKeys, unusedVolumes } from './lxc-config.js';
import { tryParsePropertyString } from '../core/property-string.js';
import { mountFormat, mountType } from './lxc-config.js';
import { listContent, vdiskFree } from '../pvesm/storage.js';
import { runTask } from '../core/task.js';

/** pct destroy (PVE::API2::LXC destroy_vm). */

function earlyChecks(vmid: number, conf: GuestConfig): void {
  if (conf.props['protection'] === '1') die(`can't remove CT ${vmid} - protection mode enabled`);
  checkLock('lxc', conf);
}

function allVolumes(conf: GuestConfig): string[] {
  const vols = new Set<string>();
  for (const [, mp] of configVolumes(conf.props)) vols.add(mp.volume);
  for (const v of unusedVolumes(conf.props)) vols.add(v);
  for (const key of mountKeys(conf.pending.props)) {
    const mp = tryParsePropertyString(mountFormat(key), conf.pending.props[key] ?? '');
    if (mp?.['volume'] && mountType(mp['volume']) === 'volume') vols.add(mp['volume']);
  }
  return [...vols];
}

export async function pctDestroy(ctx: Ctx, p: Params): Promise<number> {
  const state = ctx.state;
  const vmid = Number(p['vmid']);
  const force = p['force'] === '1';
  const conf0 = loadConfig(ctx, state, 'lxc', vmid);
  earlyChecks(vmid, conf0);
  const runningMsg = `unable to destroy CT ${vmid} - container is running`;
  if (!force && isRunning(state, 'lxc', vmid)) die(runningMsg);
  return runTask(ctx, 'vzdestroy', String(vmid), async () => {
    await lockConfig(ctx, 'lxc', vmid, async () => {
      const conf = loadConfig(ctx, state, 'lxc', vmid);
      earlyChecks(vmid, conf);
      if (isRunning(state, 'lxc', vmid)) {
        if (!force) die(runningMsg);
        ctx.err(`forced to stop CT ${vmid} before destroying!\n`);
        await state.clock.sleepFor('pctStop');
        setStopped(state, 'lxc', vmid);
      }
      await state.clock.sleep(1);
      await ctx.midpoint();
      for (const volid of allVolumes(conf)) await vdiskFree(state, volid);
      if (p['destroy-unreferenced-disks'] === '1') {
        for (const sid of state.readStorageConfig().ids) {
          const def = state.readStorageConfig().storages[sid];
          if (!def || def.props['disable'] || !def.content.includes('rootdir')) continue;
          for (const e of listContent(state, sid)) {
            if (e.vmid === vmid && (e.content === 'rootdir' || e.content === 'images')) await vdiskFree(state, e.volid);
          }
        }
      }
      await removeGuest(ctx, 'lxc', vmid, p['purge'] === '1');
    });
  });
}
