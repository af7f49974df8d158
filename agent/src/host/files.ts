/**
 * File changes on the host: whole-file writes are atomic (a temp file in the same directory, fsync,
 * rename) and the old content is copied to /var/backups/phoenix first, outside the config
 * directories so nothing (AppArmor's profile loader, say) ever reads a backup as configuration.
 */
import { chmod, chown, copyFile, mkdir, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const BACKUP_DIR = '/var/backups/phoenix';

export interface WriteResult {
  /** Where the previous content was saved (node path), when there was one. */
  backup: string | undefined;
}

export async function writeAtomic(hostRoot: string, path: string, content: string, now: Date): Promise<WriteResult> {
  const target = join(hostRoot, path);
  await mkdir(dirname(target), { recursive: true });
  let mode = 0o644;
  let backup: string | undefined;
  try {
    const st = await stat(target);
    mode = st.mode & 0o7777;
    backup = `${join(BACKUP_DIR, path)}.${stamp(now)}`;
    await mkdir(dirname(join(hostRoot, backup)), { recursive: true });
    await copyFile(target, join(hostRoot, backup));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = join(dirname(target), `.${basename(target)}.phoenix-tmp-${process.pid}`);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(content, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await chmod(tmp, mode);
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return { backup };
}

/** A kernel parameter (sysfs) is written in place: it cannot be replaced by a rename. */
export async function writeParameter(hostRoot: string, path: string, value: string): Promise<void> {
  await writeFile(join(hostRoot, path), `${value}\n`, { flag: 'w' });
}

export async function ensureDirectory(hostRoot: string, path: string, uid: number, gid: number, mode: number | undefined): Promise<void> {
  const target = join(hostRoot, path);
  await mkdir(target, { recursive: true });
  await chown(target, uid, gid);
  if (mode !== undefined) await chmod(target, mode);
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}
