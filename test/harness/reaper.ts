/**
 * Processes a test or the demo starts die with it, however it ends: Ctrl-C, SIGTERM, SIGKILL, a
 * crash or a forgotten stop(). A small watcher process, in its own process group so a terminal's
 * Ctrl-C does not reach it first, holds a pipe from this process; when the pipe closes (this
 * process is gone) it sends SIGTERM to every child still registered, and SIGKILL to any left after
 * the grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const GRACE_MS = 3_000;

// Runs with `node -e`: reads `+pid` / `-pid` lines; on end of input reaps what is left.
const WATCHER = `
const live = new Set();
let rest = '';
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  rest += chunk;
  const lines = rest.split('\\n');
  rest = lines.pop();
  for (const l of lines) {
    const pid = Number(l.slice(1));
    if (!Number.isInteger(pid) || pid <= 1) continue;
    if (l[0] === '+') live.add(pid); else live.delete(pid);
  }
});
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
process.stdin.on('end', () => {
  for (const pid of live) { try { process.kill(pid, 'SIGTERM'); } catch {} }
  const deadline = Date.now() + ${GRACE_MS};
  const tick = setInterval(() => {
    const left = [...live].filter(alive);
    if (left.length === 0 || Date.now() > deadline) {
      for (const pid of left) { try { process.kill(pid, 'SIGKILL'); } catch {} }
      clearInterval(tick);
      process.exit(0);
    }
  }, 50);
});
`;

let watcher: ChildProcess | undefined;

function theWatcher(): ChildProcess {
  if (watcher) return watcher;
  const w = spawn(process.execPath, ['-e', WATCHER], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  // Neither the watcher nor its pipe keeps this process alive.
  w.unref();
  (w.stdin as unknown as { unref(): void } | null)?.unref();
  watcher = w;
  return w;
}

/** Registers a child so that it does not outlive this process. */
export function reapWithParent(child: ChildProcess): ChildProcess {
  const pid = child.pid;
  if (pid === undefined) return child;
  const w = theWatcher();
  w.stdin?.write(`+${pid}\n`);
  child.once('exit', () => {
    if (w.stdin?.writable) w.stdin.write(`-${pid}\n`);
  });
  return child;
}

/** The watcher's pid (tests check that it is gone once its work is done). */
export function reaperPid(): number | undefined {
  return watcher?.pid;
}
