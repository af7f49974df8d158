import type { Ctx } from '../core/ctx.js';
import { withZfs, ZfsError, type ZfsState } from './model.js';

/** What the `zfs` and `zpool` commands share: dispatch, usage errors, state changes and tables. */

export type Subcommand = (ctx: Ctx, argv: string[]) => number | Promise<number>;

export const ZFS_VERSION = 'zfs-2.3.4-pve1\nzfs-kmod-2.3.4-pve1\n';

/** Runs `<tool> <command> args...`: usage without a command, unknown commands exit 2. */
export async function runSubcommand(ctx: Ctx, argv: string[], usage: string, commands: Record<string, Subcommand>): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) {
    ctx.stderr(usage);
    return 2;
  }
  if (cmd === 'version') {
    ctx.out(ZFS_VERSION);
    return 0;
  }
  const run = Object.hasOwn(commands, cmd) ? commands[cmd] : undefined;
  if (!run) return usageError(ctx, usage, `unrecognized command '${cmd}'`);
  return run(ctx, rest);
}

export function usageError(ctx: Ctx, usage: string, msg: string): number {
  ctx.stderr(`${msg}\n${usage}`);
  return 2;
}

/** Changes the pools under the state lock; a ZfsError is printed and becomes the exit code. */
export async function mutate(ctx: Ctx, fn: (z: ZfsState) => void): Promise<number> {
  try {
    await withZfs(ctx.state, fn);
    return 0;
  } catch (err) {
    if (err instanceof ZfsError) {
      ctx.stderr(`${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

/** The tools' column output: two spaces apart, numbers right-aligned; tab-separated with -H. */
export function table(rows: string[][], headers: string[] | undefined, rightAligned: boolean[], scripted: boolean): string {
  if (scripted) return rows.map((r) => `${r.join('\t')}\n`).join('');
  const all = headers ? [headers, ...rows] : rows;
  const widths = (all[0] ?? []).map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) => `${r.map((c, i) => (rightAligned[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').replace(/\s+$/, '')}\n`)
    .join('');
}
