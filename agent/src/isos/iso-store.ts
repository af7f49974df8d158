/**
 * ISO images on a node's storages, as the PVE upload API keeps them: `<storage>:iso/<file>` on a
 * storage whose content includes `iso`, at the path `pvesm path` names. An upload is staged beside
 * the target in a part file named after the content's sha256 (so a retried or resumed upload finds
 * its bytes), and committed by checking size and sha256 and renaming: Proxmox never sees a partial
 * ISO. Delete goes through `pvesm free`, as Proxmox removes a volume.
 */
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FailedPreconditionError, fileSha256, InvalidArgumentError, NotFoundError, type commonv1 } from '@phoenix/shared';
import type { CallOptions, PvesmDriver } from '../drivers/types.js';

export interface IsoTarget {
  storage: string;
  file: string;
  sha256: string;
  size: number;
}

export interface IsoStoreDeps {
  pvesm: Pick<PvesmDriver, 'path' | 'free'>;
  storages(signal: AbortSignal): Promise<commonv1.Storage[]>;
}

const FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.iso$/;
const STORAGE = /^[A-Za-z][A-Za-z0-9\-_.]{0,63}$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** Part files older than this are an abandoned upload: removed when the next upload starts. */
const STALE_PART_MS = 24 * 3_600_000;

export function checkIsoName(storage: string, file: string): void {
  if (!STORAGE.test(storage)) throw new InvalidArgumentError('storage', storage, 'not a Proxmox storage id');
  if (!FILE.test(file)) throw new InvalidArgumentError('file', file, 'an ISO file name like agent.x86_64.iso (letters, digits, . _ -)');
}

export function checkIsoTarget(t: IsoTarget | undefined): IsoTarget {
  if (!t) throw new InvalidArgumentError('target', t, 'an ISO target is required');
  checkIsoName(t.storage, t.file);
  if (!SHA256.test(t.sha256)) throw new InvalidArgumentError('target.sha256', t.sha256, 'lower-case hex sha256');
  if (!Number.isSafeInteger(t.size) || t.size <= 0) throw new InvalidArgumentError('target.size', t.size, 'a positive byte count');
  return t;
}

export class IsoStore {
  /**
   * Paths of uploads in progress: a later chunk needs no storage listing and no `pvesm path`
   * (each a Proxmox tool process on a real node, for every 3 MiB). Commit and remove resolve anew.
   */
  readonly #staging = new Map<string, string>();

  constructor(private readonly d: IsoStoreDeps) {}

  /** Where the volume lives, after checking the storage exists and holds ISOs (Proxmox's texts). */
  async #path(storage: string, file: string, signal: AbortSignal): Promise<string> {
    const s = (await this.d.storages(signal)).find((x) => x.id === storage);
    if (!s) throw new NotFoundError(`storage '${storage}' does not exist`);
    if (!s.content.includes('iso')) throw new FailedPreconditionError(`storage '${storage}' does not support 'iso' content`);
    return this.d.pvesm.path(`${storage}:iso/${file}`, { signal } satisfies CallOptions);
  }

  #part(path: string, sha256: string): string {
    return join(dirname(path), `.${basename(path)}.${sha256.slice(0, 16)}.part`);
  }

  /** Stages one chunk at `offset` (which must be where the staged bytes end); returns the staged size. */
  async writeChunk(t: IsoTarget, offset: number, data: Buffer, signal: AbortSignal): Promise<{ staged: number; present: boolean }> {
    const key = `${t.storage}:${t.file}`;
    const cached = offset > 0 ? this.#staging.get(key) : undefined;
    const path = cached ?? (await this.#path(t.storage, t.file, signal));
    if (offset === 0 && data.length === 0 && (await sameContent(path, t))) return { staged: t.size, present: true };
    if (!cached) {
      await mkdir(dirname(path), { recursive: true });
      await removeStaleParts(dirname(path));
      this.#staging.set(key, path);
    }
    const part = this.#part(path, t.sha256);
    const staged = Math.max(0, await sizeOf(part));
    if (offset !== staged || data.length === 0) return { staged, present: false };
    if (offset + data.length > t.size) throw new InvalidArgumentError('data', `${offset + data.length} bytes`, `more than the announced size ${t.size}`);
    const fh = await open(part, 'a', 0o644);
    try {
      await fh.write(data);
    } finally {
      await fh.close();
    }
    return { staged: offset + data.length, present: false };
  }

  /** Makes the staged file the volume; `false` when the volume already held this content. */
  async commit(t: IsoTarget, signal: AbortSignal): Promise<boolean> {
    this.#staging.delete(`${t.storage}:${t.file}`);
    const path = await this.#path(t.storage, t.file, signal);
    if (await sameContent(path, t)) {
      await rm(this.#part(path, t.sha256), { force: true });
      return false;
    }
    const part = this.#part(path, t.sha256);
    const staged = Math.max(0, await sizeOf(part));
    if (staged !== t.size) throw new FailedPreconditionError(`${t.storage}:iso/${t.file}: ${staged} of ${t.size} bytes staged; upload the rest first`);
    const digest = await fileSha256(part);
    if (digest !== t.sha256) {
      await rm(part, { force: true });
      throw new InvalidArgumentError('target.sha256', t.sha256, `the uploaded bytes have sha256 ${digest}; the staged upload was discarded`);
    }
    await rename(part, path);
    return true;
  }

  /** Removes the volume; `false` when it was not there. */
  async remove(storage: string, file: string, signal: AbortSignal): Promise<boolean> {
    this.#staging.delete(`${storage}:${file}`);
    const path = await this.#path(storage, file, signal);
    if ((await sizeOf(path)) < 0) return false;
    await this.d.pvesm.free(`${storage}:iso/${file}`, { signal });
    return true;
  }
}

/** Size in bytes; -1 when there is no such file. */
async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return -1;
    throw err;
  }
}

async function sameContent(path: string, t: IsoTarget): Promise<boolean> {
  return (await sizeOf(path)) === t.size && (await fileSha256(path)) === t.sha256;
}

async function removeStaleParts(dir: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith('.') || !name.endsWith('.part')) continue;
    const p = join(dir, name);
    const s = await stat(p).catch(() => undefined);
    if (s && now - s.mtimeMs > STALE_PART_MS) await rm(p, { force: true });
  }
}
