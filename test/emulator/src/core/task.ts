import fs from 'node:fs';
import type { Ctx } from './ctx.js';
import { errorText } from './errors.js';

/**
 * A PVE worker task run in the foreground, as the CLI does: task output goes to stdout, a
 * failure prints its message (newlines turned into spaces) to stderr, and the log is kept under
 * `$PVE_EMU_STATE/tasks/`.
 */
export interface TaskOptions {
  /** Commands with PVE's `$upid_exit` hook exit 255 on task failure; others exit 0. */
  upidExit?: boolean;
}

const hex8 = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0');

export function makeUpid(node: string, type: string, id: string): string {
  const now = Math.floor(Date.now() / 1000);
  return `UPID:${node}:${hex8(process.pid)}:${hex8(Math.floor(process.uptime() * 100) + 1000)}:${hex8(now)}:${type}:${id}:root@pam:`;
}

export async function runTask(
  ctx: Ctx,
  type: string,
  id: string,
  fn: (upid: string) => Promise<void>,
  opts: TaskOptions = {},
): Promise<number> {
  const upid = makeUpid(ctx.node, type, id);
  const wasInTask = ctx.inTask;
  ctx.inTask = true;
  const warningsBefore = ctx.warnings;
  let error: string | undefined;
  try {
    await fn(upid);
  } catch (err) {
    error = errorText(err).replace(/\n$/, '').replace(/\n/g, ' ');
  } finally {
    ctx.inTask = wasInTask;
  }
  const warnings = ctx.warnings - warningsBefore;
  let status: string;
  if (error !== undefined) {
    ctx.stderr(`${error}\n`);
    status = `TASK ERROR: ${error}`;
  } else if (warnings > 0) {
    ctx.stderr(`Task finished with ${warnings} warning(s)!\n`);
    status = `TASK WARNINGS: ${warnings}`;
  } else {
    status = 'TASK OK';
  }
  try {
    fs.mkdirSync(ctx.state.file('tasks'), { recursive: true });
    fs.appendFileSync(ctx.state.file('tasks', 'index'), `${upid} ${status}\n`);
  } catch {
    // the task log is informational only
  }
  if (error !== undefined) return opts.upidExit === false ? 0 : 255;
  return 0;
}
