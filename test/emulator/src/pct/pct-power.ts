import type { Params } from '../core/cli-args.js';
import type { Ctx } from '../core/ctx.js';
import { die } from '../core/errors.js';
import { checkLock, fakePid, isRunning, isTemplate, loadConfig, lockConfig, setRunning, setStopped, writeConfig } from '../guest-common/guest-store.js';
import { bestEffort, bootGuest, containerGpuMinors, ensureRootfs, setGpuDevices, setHostname, staticIp } from '../guest-common/guest-api.js';
import { allLxcStatus, lxcStatus } from './lxc-status.js';
import { applyPendingChanges } from '../guest-common/pending-apply.js';
import { lxcPending } from './lxc-pending.js';
import { runTask } from '../core/task.js';
import { lxcStartErrors } from '../host/guest-checks.js';

/** pct start/stop/shutdown/reboot/suspend/resume/status/list. */

const vmidOf = (p: Params): number => Number(p['vmid']);

/** PVE::LXC::vm_start inside the start task (file lock held for the whole start); pending changes are applied first. */
export async function lxcStartLocked(ctx: Ctx, vmid: number, skiplock: boolean): Promise<void> {
  await lockConfig(ctx, 'lxc', vmid, async () => {
    const conf = loadConfig(ctx, ctx.state, 'lxc', vmid);
    if (isTemplate(conf)) die("you can't start a CT if it's a template");
    if (!skiplock && conf.props['lock'] !== 'mounted') checkLock('lxc', conf);
    if (isRunning(ctx.state, 'lxc', vmid)) die(`CT ${vmid} already running`);
    if (await applyPendingChanges(ctx, lxcPending, vmid, conf)) writeConfig(ctx.state, 'lxc', vmid, conf);
    await ctx.state.clock.sleepFor('pctStart');
    const refused = lxcStartErrors(ctx.state, vmid, conf.props, conf.lxc);
    if (refused.length > 0) {
      for (const line of refused) ctx.err(`${line}\n`);
      die(`startup for container '${vmid}' failed`);
    }
    const dir = ctx.state.guestDir(vmid);
    const sd = ctx.state.dir;
    await bestEffort(sd, `CT ${vmid} rootfs`, () => ensureRootfs(dir, conf.props['ostype']));
    await bestEffort(sd, `CT ${vmid} hostname`, () => setHostname(dir, conf.props['hostname'] ?? `CT${vmid}`, staticIp(conf.props['net0'])));
    await bestEffort(sd, `CT ${vmid} gpus`, () => setGpuDevices(dir, containerGpuMinors(conf.props, conf.lxc), sd));
    await bestEffort(sd, `CT ${vmid} boot`, () => bootGuest(dir, 'start'));
    setRunning(ctx.state, 'lxc', vmid, { pid: fakePid(vmid), startedAt: Date.now() });
  });
}

export async function lxcStopLocked(ctx: Ctx, vmid: number, skiplock: boolean, graceful: boolean): Promise<void> {
  await lockConfig(ctx, 'lxc', vmid, async () => {
    const conf = loadConfig(ctx, ctx.state, 'lxc', vmid);
    if (!skiplock && conf.props['lock'] !== 'mounted') checkLock('lxc', conf);
    await ctx.state.clock.sleepFor(graceful ? 'pctShutdown' : 'pctStop');
    await bestEffort(ctx.state.dir, `CT ${vmid} shutdown`, () => bootGuest(ctx.state.guestDir(vmid), 'stop'));
    setStopped(ctx.state, 'lxc', vmid);
    // lxc-pve-poststop-hook applies what was pending while the CT ran.
    if (await applyPendingChanges(ctx, lxcPending, vmid, conf)) writeConfig(ctx.state, 'lxc', vmid, conf);
  });
}

export async function pctStart(ctx: Ctx, p: Params): Promise<number> {
  const vmid = vmidOf(p);
  if (isRunning(ctx.state, 'lxc', vmid)) die(`CT ${vmid} already running`);
  return runTask(ctx, 'vzstart', String(vmid), () => lxcStartLocked(ctx, vmid, p['skiplock'] === '1'));
}

export async function pctStop(ctx: Ctx, p: Params): Promise<number> {
  const vmid = vmidOf(p);
  if (!isRunning(ctx.state, 'lxc', vmid)) die(`CT ${vmid} not running`);
  return runTask(ctx, 'vzstop', String(vmid), () => lxcStopLocked(ctx, vmid, p['skiplock'] === '1', false));
}

export async function pctShutdown(ctx: Ctx, p: Params): Promise<number> {
  const vmid = vmidOf(p);
  if (!isRunning(ctx.state, 'lxc', vmid)) die(`CT ${vmid} not running`);
  return runTask(ctx, 'vzshutdown', String(vmid), () => lxcStopLocked(ctx, vmid, false, true));
}

export async function pctReboot(ctx: Ctx, p: Params): Promise<number> {
  const vmid = vmidOf(p);
  if (!isRunning(ctx.state, 'lxc', vmid)) die(`VM ${vmid} not running`);
  return runTask(ctx, 'vzreboot', String(vmid), async () => {
    await lxcStopLocked(ctx, vmid, false, true);
    await lxcStartLocked(ctx, vmid, false);
  });
}

export async function pctSuspend(ctx: Ctx, p: Params): Promise<number> {
  const vmid = vmidOf(p);
  if (!isRunning(ctx.state, 'lxc', vmid)) die(`CT ${vmid} not running`);
  return runTask(ctx, 'vzsuspend', String(vmid), async () => {
    await lockConfig(ctx, 'lxc', vmid, () => checkLock('lxc', loadConfig(ctx, ctx.state, 'lxc', vmid)));
  });
}

export async function pctResume(ctx: Ctx, p: Params): Promise<number> {
  const vmid = vmidOf(p);
  if (isRunning(ctx.state, 'lxc', vmid)) die(`CT ${vmid} already running`);
  return runTask(ctx, 'vzresume', String(vmid), () => die(`CT ${vmid} not running`));
}

export function pctStatus(ctx: Ctx, p: Params): number {
  const vmid = vmidOf(p);
  const conf = loadConfig(ctx, ctx.state, 'lxc', vmid);
  const stat = lxcStatus(ctx.state, vmid, conf);
  if (p['verbose'] === '1') {
    for (const k of Object.keys(stat).sort()) {
      if (k === 'cpu') continue;
      ctx.out(`${k}: ${String(stat[k])}\n`);
    }
  } else {
    ctx.out(`status: ${String(stat['status'] ?? 'unknown')}\n`);
  }
  return 0;
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));

export function pctList(ctx: Ctx): number {
  const res = allLxcStatus(ctx.state);
  if (!res.length) return 0;
  const line = (a: string, b: string, c: string, d: string): string => `${pad(a, 10)} ${pad(b, 10)} ${pad(c, 12)} ${pad(d, 20)}\n`;
  let out = line('VMID', 'Status', 'Lock', 'Name');
  for (const d of res.sort((a, b) => Number(a['vmid']) - Number(b['vmid']))) {
    out += line(String(d['vmid']), String(d['status']), String(d['lock'] ?? ''), String(d['name']));
  }
  ctx.out(out);
  return 0;
}
