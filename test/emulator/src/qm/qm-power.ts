import type { Params } from '../core/cli-args.js';
import type { Ctx } from '../core/ctx.js';
import { die } from '../core/errors.js';
import { bestEffort, bootGuest, ensureRootfs } from '../guest-common/guest-api.js';
import { checkLock, fakePid, isRunning, isTemplate, loadConfig, lockConfig, runState, setRunning, setStopped, writeConfig } from '../guest-common/guest-store.js';
import { allQemuStatus, qemuStatus } from './qemu-status.js';
import { isCloudinitOption, parseDrive, driveIsCloudinit, driveKeys } from './qemu-config.js';
import { runTask } from '../core/task.js';
import { DURATIONS } from '../core/timing.js';
import type { GuestConfig } from '../core/config-file.js';
import { applyPendingChanges } from '../guest-common/pending-apply.js';
import { releasePciDevices, withPciDevices } from './hostpci.js';
import { qemuPending } from './qemu-pending.js';

/** qm start/stop/shutdown/reboot/suspend/resume/status/list/wait. */

const vmidOf = (p: Params): number => Number(p['vmid']);

/** Writes the `[special:cloudinit]` section: the values the cloud-init image was built from. */
export function regenerateCloudinit(ctx: Ctx, conf: GuestConfig): boolean {
  const hasDrive = driveKeys(conf.props).some((k) => {
    const d = parseDrive(k, conf.props[k] ?? '');
    return d !== undefined && driveIsCloudinit(d);
  });
  if (!hasDrive) return false;
  const ci: Record<string, string> = {};
  for (const [k, v] of Object.entries(conf.props)) if (isCloudinitOption(k)) ci[k] = v;
  if (conf.props['name']) ci['name'] = conf.props['name'];
  conf.special['cloudinit'] = ci;
  ctx.out('generating cloud-init ISO\n');
  return true;
}

export async function qmStartLocked(ctx: Ctx, vmid: number, opts: { skiplock?: boolean }): Promise<void> {
  await lockConfig(ctx, 'qemu', vmid, async () => {
    const conf = loadConfig(ctx, ctx.state, 'qemu', vmid);
    if (isTemplate(conf)) die("you can't start a vm if it's a template");
    const lock = conf.props['lock'];
    if (!opts.skiplock && lock !== 'suspended') checkLock('qemu', conf);
    if (isRunning(ctx.state, 'qemu', vmid)) die(`VM ${vmid} already running`);
    const applied = await applyPendingChanges(ctx, qemuPending, vmid, conf);
    if (regenerateCloudinit(ctx, conf) || applied) writeConfig(ctx.state, 'qemu', vmid, conf);
    await withPciDevices(ctx, vmid, conf, async () => {
      await ctx.state.clock.sleepFor('qmStart');
      const dir = ctx.state.guestDir(vmid);
      await bestEffort(ctx.state.dir, `VM ${vmid} rootfs`, () => ensureRootfs(dir, conf.props['ostype'] === 'l26' ? 'ubuntu' : undefined));
      await bestEffort(ctx.state.dir, `VM ${vmid} boot`, () => bootGuest(dir, 'start'));
      const now = Date.now();
      const pid = fakePid(vmid);
      setRunning(ctx.state, 'qemu', vmid, { pid, startedAt: now, agentReadyAt: now + ctx.state.clock.ms(DURATIONS.qmAgentBoot), qmpstatus: 'running' });
      return pid;
    });
  });
}

/** _do_vm_stop: a stopped VM is fine (the task just ends); pending changes are applied after the stop. */
export async function qmStopLocked(ctx: Ctx, vmid: number, opts: { skiplock?: boolean; graceful?: boolean }): Promise<void> {
  await lockConfig(ctx, 'qemu', vmid, async () => {
    const conf = loadConfig(ctx, ctx.state, 'qemu', vmid);
    if (!opts.skiplock) checkLock('qemu', conf);
    if (!isRunning(ctx.state, 'qemu', vmid)) return;
    await ctx.state.clock.sleepFor(opts.graceful ? 'qmShutdown' : 'qmStop');
    await bestEffort(ctx.state.dir, `VM ${vmid} shutdown`, () => bootGuest(ctx.state.guestDir(vmid), 'stop'));
    setStopped(ctx.state, 'qemu', vmid);
    await releasePciDevices(ctx, vmid);
    // vm_stop_cleanup of a stop/shutdown task applies pending changes (a shutdown from inside the
    // guest leaves them to the next start).
    if (await applyPendingChanges(ctx, qemuPending, vmid, conf)) writeConfig(ctx.state, 'qemu', vmid, conf);
  });
}

export function qmStart(ctx: Ctx, p: Params): Promise<number> {
  const vmid = vmidOf(p);
  return runTask(ctx, 'qmstart', String(vmid), () => qmStartLocked(ctx, vmid, { skiplock: p['skiplock'] === '1' }));
}

export function qmStop(ctx: Ctx, p: Params): Promise<number> {
  const vmid = vmidOf(p);
  return runTask(ctx, 'qmstop', String(vmid), () => qmStopLocked(ctx, vmid, { skiplock: p['skiplock'] === '1' }));
}

export function qmShutdown(ctx: Ctx, p: Params): Promise<number> {
  const vmid = vmidOf(p);
  const rs = runState(ctx.state, 'qemu', vmid);
  if (rs?.qmpstatus === 'paused') die('VM is paused - cannot shutdown');
  return runTask(ctx, 'qmshutdown', String(vmid), () => qmStopLocked(ctx, vmid, { skiplock: p['skiplock'] === '1', graceful: true }));
}

export function qmReboot(ctx: Ctx, p: Params): Promise<number> {
  const vmid = vmidOf(p);
  if (runState(ctx.state, 'qemu', vmid)?.qmpstatus === 'paused') die('VM is paused - cannot shutdown');
  if (!isRunning(ctx.state, 'qemu', vmid)) die(`VM ${vmid} not running`);
  return runTask(ctx, 'qmreboot', String(vmid), async () => {
    await qmStopLocked(ctx, vmid, { graceful: true });
    await qmStartLocked(ctx, vmid, {});
  });
}

function setQmpStatus(ctx: Ctx, vmid: number, status: string): void {
  const rs = runState(ctx.state, 'qemu', vmid);
  if (rs) setRunning(ctx.state, 'qemu', vmid, { ...rs, qmpstatus: status });
}

export function qmSuspend(ctx: Ctx, p: Params): Promise<number> {
  const vmid = vmidOf(p);
  return runTask(ctx, 'qmsuspend', String(vmid), async () => {
    await lockConfig(ctx, 'qemu', vmid, () => {
      const conf = loadConfig(ctx, ctx.state, 'qemu', vmid);
      if (p['skiplock'] !== '1') checkLock('qemu', conf);
      if (!isRunning(ctx.state, 'qemu', vmid)) die(`VM ${vmid} not running`);
      setQmpStatus(ctx, vmid, 'paused');
    });
  });
}

export function qmResume(ctx: Ctx, p: Params): Promise<number> {
  const vmid = vmidOf(p);
  return runTask(ctx, 'qmresume', String(vmid), async () => {
    await lockConfig(ctx, 'qemu', vmid, () => {
      const conf = loadConfig(ctx, ctx.state, 'qemu', vmid);
      if (p['skiplock'] !== '1' && conf.props['lock'] !== 'suspended') checkLock('qemu', conf);
      if (!isRunning(ctx.state, 'qemu', vmid)) die(`VM ${vmid} not running`);
      setQmpStatus(ctx, vmid, 'running');
    });
  });
}

function printRecursive(ctx: Ctx, prefix: string, value: unknown, key: string): void {
  if (value === undefined || value === null) return;
  if (typeof value === 'object') {
    ctx.out(`${prefix}${key}:\n`);
    for (const k of Object.keys(value).sort()) printRecursive(ctx, `${prefix}\t`, (value as Record<string, unknown>)[k], k);
    return;
  }
  ctx.out(`${prefix}${key}: ${String(value)}\n`);
}

export function qmStatus(ctx: Ctx, p: Params): number {
  const vmid = vmidOf(p);
  const conf = loadConfig(ctx, ctx.state, 'qemu', vmid);
  const stat = qemuStatus(ctx.state, vmid, conf, true);
  if (p['verbose'] === '1') {
    for (const k of Object.keys(stat).sort()) {
      if (k === 'cpu' || k === 'relcpu') continue;
      printRecursive(ctx, '', stat[k], k);
    }
  } else {
    ctx.out(`status: ${String(stat['qmpstatus'] ?? 'unknown')}\n`);
  }
  return 0;
}

export function qmList(ctx: Ctx): number {
  const list = allQemuStatus(ctx.state, true);
  if (!list.length) return 0;
  let out = `${'VMID'.padStart(10)} ${'NAME'.padEnd(20)} ${'STATUS'.padEnd(10)} ${'MEM(MB)'.padEnd(10)} ${'BOOTDISK(GB)'.padStart(12)} ${'PID'.padEnd(10)}\n`;
  for (const r of list.sort((a, b) => Number(a['vmid']) - Number(b['vmid']))) {
    const mem = Number(r['maxmem'] ?? 0) / (1024 * 1024);
    const disk = Number(r['maxdisk'] ?? 0) / 1024 ** 3;
    out += `${String(r['vmid']).padStart(10)} ${String(r['name']).padEnd(20)} ${String(r['qmpstatus'] ?? r['status']).padEnd(10)} ${String(Number.isInteger(mem) ? mem : mem.toFixed(15).replace(/0+$/, '')).padEnd(10)} ${disk.toFixed(2).padStart(12)} ${String(r['pid'] ?? 0).padEnd(10)}\n`;
  }
  ctx.out(out);
  return 0;
}

export async function qmWait(ctx: Ctx, p: Params): Promise<number> {
  const vmid = vmidOf(p);
  const rs = runState(ctx.state, 'qemu', vmid);
  if (!rs) return 0;
  ctx.out(`waiting until VM ${vmid} stops (PID ${rs.pid})\n`);
  const timeout = typeof p['timeout'] === 'string' ? Number(p['timeout']) : undefined;
  let count = 0;
  while ((timeout === undefined || count < timeout) && isRunning(ctx.state, 'qemu', vmid)) {
    count++;
    await ctx.state.clock.sleep(1);
  }
  if (isRunning(ctx.state, 'qemu', vmid)) die('wait failed - got timeout');
  return 0;
}
