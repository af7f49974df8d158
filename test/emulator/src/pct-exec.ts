import type { Params } from './cli-args.js';
import type { Ctx } from './ctx.js';
import { die } from './errors.js';
import { guestModule, rootfsOf } from './guest-api.js';
import { isRunning, loadConfig, lockConfig } from './guest-store.js';
import { runTask } from './task.js';

/** pct exec / push / pull / enter, delegated to the guest module. */

async function readStdin(): Promise<Buffer | undefined> {
  if (process.stdin.isTTY) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
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
  const opts: { stdin?: Buffer; gpuVisible: boolean } = { gpuVisible: gpuVisible(conf) };
  if (stdin !== undefined) opts.stdin = stdin;
  const res = await mod.execInGuest(rootfsOf(ctx.state.guestDir(vmid)), args, opts);
  process.stdout.write(res.stdout);
  process.stderr.write(res.stderr);
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
