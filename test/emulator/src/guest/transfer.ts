/**
 * `pct push` / `pct pull`: copy a file into or out of a guest, through the guest's view of its
 * paths (paths.ts). Like pct push, the target directory must exist; the file gets the given
 * permissions (default 0644) and owner (default root).
 */
import { chmod, chown, copyFile, lstat, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GuestError } from './errors.js';
import { resolveGuestPath } from './paths.js';

function parsePerms(perms: string | undefined): number {
  if (perms === undefined) return 0o644;
  const v = perms.startsWith('0x') ? Number.parseInt(perms.slice(2), 16) : Number.parseInt(perms, 8);
  if (!Number.isInteger(v) || v < 0 || v > 0o7777) throw new GuestError('EMU_GUEST_PATH_INVALID', `invalid perms: ${perms}`);
  return v;
}

export async function pushFile(
  rootfs: string,
  hostPath: string,
  guestPath: string,
  opts: { perms?: string; user?: number; group?: number } = {},
): Promise<void> {
  const mode = parsePerms(opts.perms);
  const dest = await resolveGuestPath(rootfs, guestPath, { followFinal: true });
  const parent = await stat(dirname(dest)).catch(() => null);
  if (parent === null || !parent.isDirectory()) {
    throw new GuestError('EMU_GUEST_NO_SUCH_FILE', `failed to open ${guestPath} for writing: No such file or directory`, {
      details: { guestPath },
    });
  }
  const existing = await lstat(dest).catch(() => null);
  if (existing?.isDirectory() === true) {
    throw new GuestError('EMU_GUEST_PATH_INVALID', `failed to open ${guestPath} for writing: Is a directory`);
  }
  const src = await stat(hostPath).catch(() => null);
  if (src === null || !src.isFile()) {
    throw new GuestError('EMU_GUEST_NO_SUCH_FILE', `can't open source file ${hostPath}: No such file or directory`);
  }
  const tmp = `${dest}.pct-push-${process.pid}`;
  try {
    await copyFile(hostPath, tmp);
    await chmod(tmp, mode);
    if (process.getuid?.() === 0) await chown(tmp, opts.user ?? 0, opts.group ?? 0);
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function pullFile(rootfs: string, guestPath: string, hostPath: string): Promise<void> {
  const src = await resolveGuestPath(rootfs, guestPath, { followFinal: true });
  const s = await stat(src).catch(() => null);
  if (s === null) throw new GuestError('EMU_GUEST_NO_SUCH_FILE', `failed to open ${guestPath}: No such file or directory`);
  if (!s.isFile()) throw new GuestError('EMU_GUEST_PATH_INVALID', `${guestPath} is not a regular file`);
  // Opened once, so a guest swapping the file for a link afterwards cannot redirect the read.
  const fh = await open(src, 'r');
  try {
    const out = await open(hostPath, 'w', 0o644);
    try {
      await out.writeFile(await fh.readFile());
    } finally {
      await out.close();
    }
  } finally {
    await fh.close();
  }
}
