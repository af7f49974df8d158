import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Inter-process locks that behave like PVE's flock-based lock_file_full: exclusive or shared,
 * waiting up to a timeout, and released automatically when the holding process dies.
 *
 * Node has no flock, so a lock is a directory of holder files named after the holder's pid and
 * process start time (pid reuse cannot fake a live holder). Holders whose process is gone are
 * pruned by the next contender. A tiny guard file (O_EXCL) serialises the inspection of holders.
 */

export type LockMode = 'exclusive' | 'shared';

export interface LockOptions {
  mode?: LockMode;
  /** Give up after this long. */
  timeoutMs: number;
  /** Called once when the lock is busy and we start waiting. */
  onWait?: () => void;
  /** Called when the lock was obtained after waiting. */
  onAcquiredAfterWait?: () => void;
}

export class LockTimeoutError extends Error {
  readonly lockDir: string;
  constructor(lockDir: string) {
    super(`lock '${lockDir}' - got timeout`);
    this.name = 'LockTimeoutError';
    this.lockDir = lockDir;
  }
}

const selfStart = procStartTime(process.pid) ?? '0';
const held = new Map<string, { count: number; file: string }>();
let seq = 0;

function procStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after the last ')' are fixed.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

/** True when process `pid`, started at `start`, still exists. */
export function processAlive(pid: number, start: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const actual = procStartTime(pid);
  if (actual === undefined) return fs.existsSync('/proc/self/stat') ? false : true;
  return start === '0' || actual === start;
}

interface Holder {
  file: string;
  pid: number;
  start: string;
  mode: LockMode;
}

function parseHolder(name: string): Holder | undefined {
  const m = /^(\d+)-(\d+)-(ex|sh)-\d+$/.exec(name);
  if (!m) return undefined;
  return { file: name, pid: Number(m[1]), start: m[2] ?? '0', mode: m[3] === 'sh' ? 'shared' : 'exclusive' };
}

async function withGuard<T>(guard: string, fn: () => T): Promise<T> {
  const me = `${process.pid} ${selfStart}`;
  for (let i = 0; ; i++) {
    try {
      fs.writeFileSync(guard, me, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      breakStaleGuard(guard);
      await delay(i < 20 ? 1 : 5);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

function breakStaleGuard(guard: string): void {
  let content: string;
  let st: fs.Stats;
  try {
    content = fs.readFileSync(guard, 'utf8');
    st = fs.statSync(guard);
  } catch {
    return;
  }
  const [pidText, start] = content.split(' ');
  const pid = Number(pidText);
  const dead = content === '' ? Date.now() - st.mtimeMs > 2000 : !processAlive(pid, start ?? '0');
  if (!dead) return;
  try {
    if (fs.readFileSync(guard, 'utf8') === content) fs.rmSync(guard, { force: true });
  } catch {
    // someone else removed it already
  }
}

function tryTake(dir: string, mode: LockMode): string | undefined {
  fs.mkdirSync(dir, { recursive: true });
  const holders: Holder[] = [];
  for (const name of fs.readdirSync(dir)) {
    const h = parseHolder(name);
    if (!h) continue;
    if (!processAlive(h.pid, h.start)) {
      fs.rmSync(path.join(dir, name), { force: true });
      continue;
    }
    holders.push(h);
  }
  const busy = mode === 'shared' ? holders.some((h) => h.mode === 'exclusive') : holders.length > 0;
  if (busy) return undefined;
  const file = path.join(dir, `${process.pid}-${selfStart}-${mode === 'shared' ? 'sh' : 'ex'}-${seq++}`);
  fs.writeFileSync(file, '');
  return file;
}

/** Acquires the lock and returns its release function. Re-entrant within one process. */
export async function acquireLock(dir: string, opts: LockOptions): Promise<() => void> {
  const mine = held.get(dir);
  if (mine) {
    mine.count++;
    return () => releaseLock(dir);
  }
  const mode = opts.mode ?? 'exclusive';
  const guard = `${dir}.guard`;
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const deadline = Date.now() + opts.timeoutMs;
  let waited = false;
  for (let i = 0; ; i++) {
    const file = await withGuard(guard, () => tryTake(dir, mode));
    if (file) {
      held.set(dir, { count: 1, file });
      if (waited) opts.onAcquiredAfterWait?.();
      return () => releaseLock(dir);
    }
    if (!waited) {
      waited = true;
      opts.onWait?.();
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(dir);
    await delay(Math.min(i < 10 ? 5 : 20, Math.max(1, deadline - Date.now())));
  }
}

function releaseLock(dir: string): void {
  const mine = held.get(dir);
  if (!mine) return;
  mine.count--;
  if (mine.count > 0) return;
  held.delete(dir);
  fs.rmSync(mine.file, { force: true });
}

export async function withLock<T>(dir: string, opts: LockOptions, fn: () => Promise<T> | T): Promise<T> {
  const release = await acquireLock(dir, opts);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Holders of a lock that are still alive (for tests and diagnostics). */
export function lockHolders(dir: string): Array<{ pid: number; mode: LockMode }> {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map(parseHolder)
    .filter((h): h is Holder => h !== undefined && processAlive(h.pid, h.start))
    .map((h) => ({ pid: h.pid, mode: h.mode }));
}
