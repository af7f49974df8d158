import fs from 'node:fs';
import { readJson, readTextOrUndefined, writeFileAtomic, writeJson } from '../core/atomic-file.js';
import { emptyConfig, parseConfig, writeConfigText, type GuestConfig } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { PveException, die } from '../core/errors.js';
import { LockTimeoutError, withLock } from '../core/lock.js';
import type { GuestType, State } from '../core/state.js';
import { LOCK_TIMEOUTS } from '../core/timing.js';
import { removeGuestDir } from './guest-api.js';

/** Guest configs, their PVE file locks and the emulated run state of each guest. */

export const guestWord = (type: GuestType): 'CT' | 'VM' => (type === 'lxc' ? 'CT' : 'VM');

export function cfsPath(node: string, type: GuestType, vmid: number | string): string {
  return `nodes/${node}/${type === 'lxc' ? 'lxc' : 'qemu-server'}/${vmid}.conf`;
}

/** Path of the real flock file, as printed in "can't lock file" errors. */
export function lockFileName(type: GuestType, vmid: number | string): string {
  return type === 'lxc' ? `/run/lock/lxc/pve-config-${vmid}.lock` : `/var/lock/qemu-server/lock-${vmid}.conf`;
}

export function configExists(state: State, type: GuestType, vmid: number | string): boolean {
  return fs.existsSync(state.confFile(type, vmid));
}

export function readConfigRaw(state: State, type: GuestType, vmid: number | string): string | undefined {
  return readTextOrUndefined(state.confFile(type, vmid));
}

/** AbstractConfig::load_config. A missing config exits 2 (errno ENOENT leaks into Perl's die). */
export function loadConfig(ctx: Ctx | undefined, state: State, type: GuestType, vmid: number | string): GuestConfig {
  const raw = readConfigRaw(state, type, vmid);
  if (raw === undefined) {
    throw new PveException(`Configuration file '${cfsPath(state.node, type, vmid)}' does not exist\n`, { exitCode: 2 });
  }
  return parseConfig(raw, type, Number(vmid), (msg) => ctx?.err(msg));
}

export function writeConfig(state: State, type: GuestType, vmid: number | string, conf: GuestConfig): void {
  writeFileAtomic(state.confFile(type, vmid), writeConfigText(conf, type));
}

export function destroyConfig(state: State, type: GuestType, vmid: number | string): void {
  fs.rmSync(state.confFile(type, vmid), { force: true });
}

/** lock_config_full: the guest's flock, waiting `timeoutSec` (scaled), with PVE's messages. */
export async function lockConfig<T>(
  ctx: Ctx,
  type: GuestType,
  vmid: number | string,
  fn: () => Promise<T> | T,
  opts: { timeoutSec?: number; shared?: boolean } = {},
): Promise<T> {
  const timeoutMs = ctx.state.clock.ms(opts.timeoutSec ?? LOCK_TIMEOUTS.config);
  try {
    return await withLock(
      ctx.state.lockDir(`${type}-config-${vmid}`),
      {
        mode: opts.shared ? 'shared' : 'exclusive',
        timeoutMs,
        onWait: () => ctx.err('trying to acquire lock...\n'),
        onAcquiredAfterWait: () => ctx.err(' OK\n'),
      },
      fn,
    );
  } catch (err) {
    if (err instanceof LockTimeoutError) die(`can't lock file '${lockFileName(type, vmid)}' - got timeout`);
    throw err;
  }
}

/** AbstractConfig::check_lock. */
export function checkLock(type: GuestType, conf: GuestConfig): void {
  const lock = conf.props['lock'];
  if (lock) die(`${guestWord(type)} is locked (${lock})`);
}

export function isTemplate(conf: GuestConfig): boolean {
  return conf.props['template'] === '1';
}

/** Which kind of guest owns a VMID on this node. */
export function guestTypeOf(state: State, vmid: number | string): GuestType | undefined {
  if (configExists(state, 'lxc', vmid)) return 'lxc';
  if (configExists(state, 'qemu', vmid)) return 'qemu';
  return undefined;
}

/** Cluster::check_vmid_unused. */
export function checkVmidUnused(state: State, vmid: number | string): void {
  const t = guestTypeOf(state, vmid);
  if (t) die(`${guestWord(t)} ${vmid} already exists on node '${state.node}'`);
}

export function listVmids(state: State, type: GuestType): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(state.file(type === 'lxc' ? 'lxc' : 'qemu-server'));
  } catch {
    return [];
  }
  return names
    .map((n) => /^(\d+)\.conf$/.exec(n)?.[1])
    .filter((x): x is string => x !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Emulated process state of a running guest. */
export interface RunState {
  pid: number;
  startedAt: number;
  /** qemu: when the guest agent starts answering. */
  agentReadyAt?: number;
  qmpstatus?: string;
}

export function runState(state: State, type: GuestType, vmid: number | string): RunState | undefined {
  return readJson<RunState | undefined>(state.runFile(type, vmid), undefined);
}

export function isRunning(state: State, type: GuestType, vmid: number | string): boolean {
  return fs.existsSync(state.runFile(type, vmid));
}

export function setRunning(state: State, type: GuestType, vmid: number | string, rs: RunState): void {
  writeJson(state.runFile(type, vmid), rs);
}

export function setStopped(state: State, type: GuestType, vmid: number | string): void {
  fs.rmSync(state.runFile(type, vmid), { force: true });
}

/** A plausible pid for the guest's main process. */
export function fakePid(vmid: number): number {
  return 10000 + ((vmid * 7919 + Math.floor(Date.now() / 1000)) % 50000);
}

/** AbstractConfig::remove_lock. */
export async function removeLock(ctx: Ctx, vmid: number, lock: string | undefined, type: 'lxc' | 'qemu' = 'lxc'): Promise<void> {
  await lockConfig(ctx, type, vmid, () => {
    const conf = loadConfig(ctx, ctx.state, type, vmid);
    if (!conf.props['lock']) die(`no lock found trying to remove ${lock !== undefined ? `'${lock}' ` : 'any'} lock`);
    if (lock !== undefined && conf.props['lock'] !== lock) die(`found lock '${conf.props['lock']}' trying to remove '${lock}' lock`);
    delete conf.props['lock'];
    writeConfig(ctx.state, type, vmid, conf);
  });
}

/** create_and_lock_config(newid): a config holding only `lock: create`. */
export async function createAndLockConfig(ctx: Ctx, type: 'lxc' | 'qemu', vmid: number, lock = 'create'): Promise<void> {
  await lockConfig(
    ctx,
    type,
    vmid,
    () => {
      checkVmidUnused(ctx.state, vmid);
      const conf = emptyConfig();
      conf.props['lock'] = lock;
      writeConfig(ctx.state, type, vmid, conf);
    },
    { timeoutSec: LOCK_TIMEOUTS.create },
  );
}

/** The end of destroy_vm: the config turns into `lock: destroyed`, then the guest is gone. */
export async function removeGuest(ctx: Ctx, type: GuestType, vmid: number, purge: boolean): Promise<void> {
  const replacement = emptyConfig();
  replacement.props['lock'] = 'destroyed';
  writeConfig(ctx.state, type, vmid, replacement);
  await ctx.state.clock.sleep(1);
  if (purge) ctx.out(`purging ${guestWord(type)} ${vmid} from related configurations..\n`);
  removeGuestDir(ctx.state.guestDir(vmid));
  destroyConfig(ctx.state, type, vmid);
}
