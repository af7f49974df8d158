import fs from 'node:fs';
import path from 'node:path';
import { EmulatorError } from '../core/errors.js';

/**
 * The guest module (test/emulator/src/guest/index.ts) runs commands inside emulated guests.
 * It is loaded lazily by a computed specifier, so the rest of the emulator builds and works
 * without it and only guest execution fails when it is missing.
 */
export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

export interface ExecOptions {
  stdin?: Buffer | string;
  env?: Record<string, string>;
  timeoutMs?: number;
  gpuVisible?: boolean;
  /** The node's state dir, needed with gpuVisible. */
  stateDir?: string;
  /** Live copies of the output besides the returned buffers. */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

export interface GuestModule {
  ensureGuestRootfs(guestDir: string, opts?: { osTemplate?: string }): Promise<void>;
  setGuestHostname?(rootfs: string, hostname: string, ip?: string): Promise<void>;
  setGuestAuthorizedKeys?(rootfs: string, keys: string): Promise<void>;
  startGuest?(rootfs: string): Promise<void>;
  stopGuest?(rootfs: string): Promise<void>;
  setGuestGpuDevices?(rootfs: string, minors: readonly number[], stateDir: string): Promise<void>;
  copyGuestRootfs(srcRootfs: string, dstRootfs: string): Promise<void>;
  execInGuest(rootfs: string, argv: string[], opts: ExecOptions): Promise<ExecResult>;
  pushFile(rootfs: string, hostPath: string, guestPath: string, opts?: { perms?: string; user?: number; group?: number }): Promise<void>;
  pullFile(rootfs: string, guestPath: string, hostPath: string): Promise<void>;
}

let loaded: Promise<GuestModule | undefined> | undefined;

async function tryLoad(): Promise<GuestModule | undefined> {
  const spec = '../guest/index.js';
  try {
    return (await import(spec)) as GuestModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

export async function guestModule(): Promise<GuestModule> {
  loaded ??= tryLoad();
  const mod = await loaded;
  if (!mod) throw new EmulatorError('EMU_GUEST_MODULE_MISSING', 'guest execution is not available: test/emulator/src/guest is missing');
  return mod;
}

export function rootfsOf(guestDir: string): string {
  return path.join(guestDir, 'rootfs');
}

export function snapshotRootfs(guestDir: string, snap: string): string {
  return path.join(guestDir, 'snapshots', snap, 'rootfs');
}

async function optional(): Promise<GuestModule | undefined> {
  loaded ??= tryLoad();
  return loaded;
}

/** Creates the guest's root filesystem (an empty directory when the guest module is absent). */
export async function ensureRootfs(guestDir: string, osTemplate?: string): Promise<void> {
  const mod = await optional();
  if (mod) await mod.ensureGuestRootfs(guestDir, osTemplate === undefined ? {} : { osTemplate });
  else fs.mkdirSync(rootfsOf(guestDir), { recursive: true });
}

/** /etc/hostname and /etc/hosts of the guest, as PVE's setup hooks write them. */
export async function setHostname(guestDir: string, hostname: string, ip?: string): Promise<void> {
  const mod = await optional();
  if (mod?.setGuestHostname && fs.existsSync(rootfsOf(guestDir))) await mod.setGuestHostname(rootfsOf(guestDir), hostname, ip);
}

/** root's authorized_keys, as pct create --ssh-public-keys writes it. */
export async function setAuthorizedKeys(guestDir: string, keys: string): Promise<void> {
  const mod = await optional();
  if (mod?.setGuestAuthorizedKeys && fs.existsSync(rootfsOf(guestDir))) await mod.setGuestAuthorizedKeys(rootfsOf(guestDir), keys);
}

/** The guest boots (enabled services start) or shuts down (runtime state is lost). */
export async function bootGuest(guestDir: string, action: 'start' | 'stop'): Promise<void> {
  const mod = await optional();
  if (!mod || !fs.existsSync(rootfsOf(guestDir))) return;
  if (action === 'start') await mod.startGuest?.(rootfsOf(guestDir));
  else await mod.stopGuest?.(rootfsOf(guestDir));
}

/** The /dev/nvidia* nodes bound into a container on start. */
export async function setGpuDevices(guestDir: string, minors: number[], stateDir: string): Promise<void> {
  const mod = await optional();
  if (mod?.setGuestGpuDevices && fs.existsSync(rootfsOf(guestDir))) await mod.setGuestGpuDevices(rootfsOf(guestDir), minors, stateDir);
}

/** Copies a root filesystem (plain recursive copy when the guest module is absent). */
export async function copyRootfs(src: string, dst: string): Promise<void> {
  const mod = await optional();
  if (!fs.existsSync(src)) {
    fs.mkdirSync(dst, { recursive: true });
    return;
  }
  fs.rmSync(dst, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  if (mod) await mod.copyGuestRootfs(src, dst);
  else fs.cpSync(src, dst, { recursive: true, verbatimSymlinks: true });
}

export function removeGuestDir(guestDir: string): void {
  fs.rmSync(guestDir, { recursive: true, force: true });
}

/** Runs a guest lifecycle step; failures are kept in guest-errors.log instead of failing the PVE command. */
export async function bestEffort(stateDir: string, what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    try {
      fs.appendFileSync(path.join(stateDir, 'guest-errors.log'), `${new Date().toISOString()} ${what}: ${err instanceof Error ? err.message : String(err)}\n`);
    } catch {
      // nothing more to do
    }
  }
}

/** GPU minors a container gets: `lxc.mount.entry: /dev/nvidiaN ...` lines and `devN: /dev/nvidiaN`. */
export function containerGpuMinors(props: Record<string, string>, lxc: Array<[string, string]>): number[] {
  const minors = new Set<number>();
  for (const [k, v] of lxc) {
    const m = k === 'lxc.mount.entry' ? /^\/dev\/nvidia(\d+)\s/.exec(v) : null;
    if (m) minors.add(Number(m[1]));
  }
  for (const [k, v] of Object.entries(props)) {
    const m = /^dev\d+$/.test(k) ? /^(?:path=)?\/dev\/nvidia(\d+)(?:,|$)/.exec(v) : null;
    if (m) minors.add(Number(m[1]));
  }
  return [...minors].sort((a, b) => a - b);
}

/** The static IPv4 address of net0 (for /etc/hosts), if any. */
export function staticIp(net0: string | undefined): string | undefined {
  const m = /(?:^|,)ip=(\d+\.\d+\.\d+\.\d+)\//.exec(net0 ?? '');
  return m?.[1];
}
