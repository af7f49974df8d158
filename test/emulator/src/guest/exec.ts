/**
 * Runs a command inside a guest: `chroot <rootfs> argv…` with a clean environment, in its own
 * process group. A timeout, or this process being terminated, kills the whole group (scripts'
 * background children included). Nothing is mounted into the guest.
 */
import { spawn } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { GuestError, GuestExecTimeoutError } from './errors.js';
import { startHostLink, type HostLink } from './host-link.js';
import { hostTool } from './rootfs.js';

export const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ExecInGuestOptions {
  stdin?: Buffer | string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** The guest may reach the host's NVIDIA driver (its nvidia-smi works for its /dev/nvidia<N>). */
  gpuVisible?: boolean;
  /** The node's state dir; defaults to `$PVE_EMU_STATE`. */
  stateDir?: string;
  /**
   * How the GPUs reach the guest: 'container' (default) shares the host's kernel driver, so the
   * guest's user-space driver must match it; 'vm' (PCI passthrough) runs the guest's own driver.
   */
  gpuPassthrough?: 'container' | 'vm';
  /** Live copies of the output (e.g. the emulator's own stdout), besides the returned buffers. */
  stdout?: Writable;
  stderr?: Writable;
}

export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Process groups of running guest commands, killed if this process is told to stop. */
const running = new Set<number>();
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
let handlersInstalled = false;

function killGroups(signal: NodeJS.Signals): void {
  for (const pgid of running) {
    try {
      process.kill(-pgid, signal);
    } catch {
      // already gone
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  killGroups('SIGKILL');
  uninstallHandlers();
  // Re-deliver so the default action (or other listeners) still apply.
  process.kill(process.pid, signal);
}
const onExit = (): void => killGroups('SIGKILL');

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const s of FORWARDED) process.on(s, onSignal);
  process.on('exit', onExit);
}

function uninstallHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  for (const s of FORWARDED) process.removeListener(s, onSignal);
  process.removeListener('exit', onExit);
}

export async function execInGuest(rootfs: string, argv: string[], opts: ExecInGuestOptions = {}): Promise<ExecResult> {
  if (process.getuid?.() !== 0) throw new GuestError('EMU_GUEST_NOT_ROOT', 'guest execution needs root (chroot)');
  if (argv.length === 0 || argv[0] === '') throw new GuestError('EMU_GUEST_PATH_INVALID', 'no command given');
  if (!(await lstat(join(rootfs, 'usr/lib/emu/VERSION')).catch(() => null))) {
    throw new GuestError('EMU_GUEST_ROOTFS_MISSING', `${rootfs} is not a guest rootfs`);
  }
  const chroot = await hostTool('chroot');
  if (chroot === null) throw new GuestError('EMU_GUEST_TOOL_MISSING', 'chroot not found');

  let link: HostLink | null = null;
  const stateDir = opts.stateDir ?? process.env['PVE_EMU_STATE'];
  if (opts.gpuVisible === true && stateDir !== undefined && stateDir !== '') {
    link = await startHostLink(rootfs, stateDir, opts.gpuPassthrough ?? 'container');
  }

  const env: Record<string, string> = { PATH: GUEST_PATH, HOME: '/root', LANG: 'C.UTF-8', ...opts.env };
  if (link !== null) env['PVE_EMU_HOSTLINK'] = link.spec;

  try {
    return await new Promise<ExecResult>((resolve, reject) => {
      const child = spawn(chroot, [rootfs, ...argv], {
        env,
        detached: true,
        stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
      const pgid = child.pid;
      if (pgid !== undefined) {
        running.add(pgid);
        installHandlers();
      }
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on('data', (c: Buffer) => {
        out.push(c);
        opts.stdout?.write(c);
      });
      child.stderr?.on('data', (c: Buffer) => {
        err.push(c);
        opts.stderr?.write(c);
      });
      let timedOut = false;
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        if (pgid !== undefined) running.delete(pgid);
        if (running.size === 0) uninstallHandlers();
        fn();
      };
      const timer =
        opts.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              if (pgid !== undefined) {
                try {
                  process.kill(-pgid, 'SIGKILL');
                } catch {
                  // exited meanwhile
                }
              }
              // A process that left the group could hold the pipes open: do not wait for it.
              setTimeout(() => {
                child.stdout?.destroy();
                child.stderr?.destroy();
                finish(() => reject(new GuestExecTimeoutError(argv, opts.timeoutMs ?? 0, Buffer.concat(out), Buffer.concat(err))));
              }, 2000).unref();
            }, opts.timeoutMs);
      child.on('error', (e) => finish(() => reject(new GuestError('EMU_GUEST_EXEC_FAILED', `cannot run chroot: ${e.message}`, { cause: e }))));
      child.on('close', (code, signal) => {
        if (timedOut) {
          finish(() => reject(new GuestExecTimeoutError(argv, opts.timeoutMs ?? 0, Buffer.concat(out), Buffer.concat(err))));
          return;
        }
        finish(() =>
          resolve({
            exitCode: code ?? 128 + (signal === null ? 0 : signalNumber(signal)),
            stdout: Buffer.concat(out),
            stderr: Buffer.concat(err),
          }),
        );
      });
      if (opts.stdin !== undefined) {
        child.stdin?.on('error', () => undefined);
        child.stdin?.end(opts.stdin);
      }
    });
  } finally {
    await link?.close();
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
  return table[signal] ?? 0;
}
