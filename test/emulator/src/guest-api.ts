import fs from 'node:fs';
import path from 'node:path';
import { EmulatorError } from './errors.js';

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
}

export interface GuestModule {
  ensureGuestRootfs(guestDir: string): Promise<void>;
  copyGuestRootfs(srcRootfs: string, dstRootfs: string): Promise<void>;
  execInGuest(rootfs: string, argv: string[], opts: ExecOptions): Promise<ExecResult>;
  pushFile(rootfs: string, hostPath: string, guestPath: string, opts?: { perms?: string; user?: number; group?: number }): Promise<void>;
  pullFile(rootfs: string, guestPath: string, hostPath: string): Promise<void>;
}

let loaded: Promise<GuestModule | undefined> | undefined;

async function tryLoad(): Promise<GuestModule | undefined> {
  const spec = './guest/index.js';
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

/** Creates the guest's root filesystem (an empty directory when the guest module is absent). */
export async function ensureRootfs(guestDir: string): Promise<void> {
  loaded ??= tryLoad();
  const mod = await loaded;
  if (mod) await mod.ensureGuestRootfs(guestDir);
  else fs.mkdirSync(rootfsOf(guestDir), { recursive: true });
}

/** Copies a root filesystem (plain recursive copy when the guest module is absent). */
export async function copyRootfs(src: string, dst: string): Promise<void> {
  loaded ??= tryLoad();
  const mod = await loaded;
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
