/**
 * Guest paths resolved the way the guest sees them: absolute symlink targets restart at the
 * guest's root, relative ones continue from their directory. A `..` that would climb above the
 * guest's root (in the path itself or in a symlink target) is refused rather than clamped, so a
 * push or pull can never touch a host file.
 */
import { lstat, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { GuestError } from './errors.js';

const MAX_SYMLINKS = 40;

export async function resolveGuestPath(rootfs: string, guestPath: string, opts: { followFinal: boolean }): Promise<string> {
  if (!guestPath.startsWith('/') || guestPath.includes('\0')) {
    throw new GuestError('EMU_GUEST_PATH_INVALID', `guest path must be absolute: ${JSON.stringify(guestPath)}`);
  }
  const root = await realpath(rootfs);
  const stack: string[] = [];
  let queue = guestPath.split('/').filter((c) => c !== '' && c !== '.');
  let links = 0;
  while (queue.length > 0) {
    const comp = queue.shift() as string;
    if (comp === '..') {
      if (stack.length === 0) {
        throw new GuestError('EMU_GUEST_PATH_ESCAPE', `guest path leaves the guest's root: ${guestPath}`, { details: { rootfs, guestPath } });
      }
      stack.pop();
      continue;
    }
    const host = join(root, ...stack, comp);
    const isLink = await lstat(host).then(
      (st) => st.isSymbolicLink(),
      () => false,
    );
    const last = queue.length === 0;
    if (isLink && (!last || opts.followFinal)) {
      if (++links > MAX_SYMLINKS) {
        throw new GuestError('EMU_GUEST_PATH_INVALID', `too many levels of symbolic links: ${guestPath}`);
      }
      const target = await readlink(host);
      const parts = target.split('/').filter((c) => c !== '' && c !== '.');
      if (target.startsWith('/')) stack.length = 0;
      queue = [...parts, ...queue];
      continue;
    }
    stack.push(comp);
  }
  return join(root, ...stack);
}
