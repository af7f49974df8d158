import type { Params } from './cli-args.js';
import type { GuestConfig } from './config-file.js';
import { emptyConfig } from './config-file.js';
import type { Ctx } from './ctx.js';
import { die } from './errors.js';
import { removeGuestDir } from './guest-api.js';
import { checkLock, destroyConfig, isRunning, loadConfig, lockConfig, setStopped, writeConfig } from './guest-store.js';
import { configVolumes, mountKeys, unusedVolumes } from './lxc-config.js';
import { tryParsePropertyString } from './property-string.js';
import { mountFormat, mountType } from './lxc-config.js';
import { listContent, vdiskFree } from './storage.js';
import { runTask } from './task.js';

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
      const replacement = emptyConfig();
      replacement.props['lock'] = 'destroyed';
      writeConfig(state, 'lxc', vmid, replacement);
      await state.clock.sleep(1);
      if (p['purge'] === '1') ctx.out(`purging CT ${vmid} from related configurations..\n`);
      removeGuestDir(state.guestDir(vmid));
      destroyConfig(state, 'lxc', vmid);
    });
  });
}
