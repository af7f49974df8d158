import type { Params } from '../core/cli-args.js';
import type { Ctx } from '../core/ctx.js';
import { die } from '../core/errors.js';
import { guestModule, rootfsOf, type ExecOptions } from '../guest-common/guest-api.js';
import { isRunning, loadConfig, lockConfig } from '../guest-common/guest-store.js';
import { runTask } from '../core/task.js';

/** pct exec / push / pull / enter, delegated to the guest module. */

/**
 * Input for the guest command. lxc-attach streams stdin through; here it is collected first. A
 * pipe that stays open without data (callers that never close stdin) must not block the call.
 */
async function readStdin(): Promise<Buffer | undefined> {
  if (process.stdin.isTTY) return undefined;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let idle: NodeJS.Timeout | undefined = setTimeout(() => finish(), 200);
    const finish = (): void => {
      if (idle) clearTimeout(idle);
      idle = undefined;
      process.stdin.removeAllListeners('data');
      process.stdin.removeAllListeners('end');
      process.stdin.pause();
      process.stdin.unref?.();
      resolve(chunks.length ? Buffer.concat(chunks) : undefined);
    };
    process.stdin.on('data', (c: Buffer) => {
      chunks.push(c);
      if (idle) {
        clearTimeout(idle);
        idle = undefined;
      }
    });
    process.stdin.on('end', finish);
    process.stdin.on('error', finish);
  });
}

function gpuVisible(conf: { props: Record<string, string>; lxc: Array<[string, string]> }): boolean {
  if (Object.keys(conf.props).some((k) => /^dev\d+$/.test(k) && /\/dev\/nvidia/.test(conf.props[k] ?? ''))) return true;
  return conf.lxc.some(([k, v]) => (k === 'lxc.mount.entry' && v.includes('/dev/nvidia')) || (k.startsWith('lxc.cgroup') && v.includes('195:')));
}

export async function pctExec(ctx: Ctx, p: Params): Promise<number> {
  const vmid = Number(p['vmid']);
  const conf = loadConfig(ctx, ctx.state, 'lxc', vmid);
  if (!isRunning(ctx.state, 'lxc', vmid)) die(`container '${vmid}' not running!`);
  const args = Array.isArray(p['extra-args']) ? p['extra-args'] : [];
  if (!args.length) die('missing command at /usr/share/perl5/PVE/CLI/pct.pm line 246.');
  const mod = await guestModule();
  const stdin = await readStdin();
  const opts: ExecOptions = { gpuVisible: gpuVisible(conf), stateDir: ctx.state.dir, stdout: process.stdout, stderr: process.stderr };
  if (stdin !== undefined) opts.stdin = stdin;
  const res = await mod.execInGuest(rootfsOf(ctx.state.guestDir(vmid)), args, opts);
  return res.exitCode;
}

export async function pctEnter(ctx: Ctx, p: Params): Promise<number> {
  const vmid = Number(p['vmid']);
  loadConfig(ctx, ctx.state, 'lxc', vmid);
  if (!isRunning(ctx.state, 'lxc', vmid)) die(`container '${vmid}' not running!`);
  return pctExec(ctx, { ...p, 'extra-args': ['/bin/sh'] });
}

function perms(p: Params): { perms?: string; user?: number; group?: number } {
  const o: { perms?: string; user?: number; group?: number } = {};
  if (typeof p['perms'] === 'string') o.perms = p['perms'].startsWith('0') ? p['perms'] : `0${p['perms']}`;
  if (typeof p['user'] === 'string') {
    if (!/^\d+$/.test(p['user'])) die(`failed to get uid for: ${p['user']}`);
    o.user = Number(p['user']);
  }
  if (typeof p['group'] === 'string') {
    if (!/^\d+$/.test(p['group'])) die(`failed to get gid for: ${p['group']}`);
    o.group = Number(p['group']);
  }
  return o;
}

export async function pctPush(ctx: Ctx, p: Params): Promise<number> {
  const vmid = Number(p['vmid']);
  const opts = perms(p);
  return lockConfig(ctx, 'lxc', vmid, async () => {
    if (!isRunning(ctx.state, 'lxc', vmid)) die('can only push files to a running CT');
    loadConfig(ctx, ctx.state, 'lxc', vmid);
    const mod = await guestModule();
    return runTask(
      ctx,
      'push_file',
      String(vmid),
      async () => {
        await mod.pushFile(rootfsOf(ctx.state.guestDir(vmid)), String(p['file']), String(p['destination']), opts);
      },
      { upidExit: false },
    );
  });
}

export async function pctPull(ctx: Ctx, p: Params): Promise<number> {
  const vmid = Number(p['vmid']);
  return lockConfig(ctx, 'lxc', vmid, async () => {
    if (!isRunning(ctx.state, 'lxc', vmid)) die('can only pull files from a running VM at /usr/share/perl5/PVE/CLI/pct.pm line 664.');
    const mod = await guestModule();
    return runTask(
      ctx,
      'pull_file',
      String(vmid),
      async () => {
        await mod.pullFile(rootfsOf(ctx.state.guestDir(vmid)), String(p['path']), String(p['destination']));
      },
      { upidExit: false },
    );
  });
}
