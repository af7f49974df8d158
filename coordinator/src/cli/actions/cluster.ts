/**
 * What the live-cluster commands do through the coordinators: apply, status, delete, destroy,
 * drain, and `plan` without a view file.
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, NotFoundError } from '@phoenix/shared';
import { Allocator } from '../../alloc/index.js';
import { contextTls } from '../../context/index.js';
import { setDrained } from '../../nodes/index.js';
import { livePlan } from '../../preview/index.js';
import { submitRequest } from '../../requests/index.js';
import { loadSpecText } from '../../spec/load.js';
import { statusRows } from '../../status/index.js';
import { readSpecScripts } from '../scripts.js';
import { formatTable, parseFormat, render, type CliIO } from '../io.js';
import { withSession } from './cluster-session.js';
import { formatSummary, watchRun } from './run-watch.js';

/** `phoenix plan <spec>` against the live cluster: steps per node, makespan and critical path. */
export async function clusterPlan(io: CliIO, specPath: string, opts: { context?: string | undefined; output: string; perNode?: number }): Promise<void> {
  const format = parseFormat(opts.output);
  const { compiled } = loadSpecText(await readFile(specPath, 'utf8'), specPath);
  await withSession(opts.context, async (s) => {
    const scripts = await readSpecScripts(compiled, specPath);
    const { view, addresses } = await s.view();
    const plan = await livePlan(compiled, view, { perNode: opts.perNode ?? 4, scripts, addresses, tls: contextTls(s.ctx), requester: `cli/${s.ctx.name}` });
    const vmid = (n: number): string => (n > 0 ? String(n) : 'new');
    await render(io, format, { guests: plan.guests.map(({ spec: _spec, ...g }) => g), unplaced: plan.unplaced, estimate: plan.estimate }, () => {
      const byNode = new Map<string, typeof plan.guests>();
      for (const g of plan.guests) byNode.set(g.node, [...(byNode.get(g.node) ?? []), g]);
      let text = '';
      for (const [node, guests] of [...byNode].sort(([a], [b]) => a.localeCompare(b))) {
        text += `\n${node}\n`;
        for (const g of guests) {
          text += `  ${g.action === 'create' ? '+' : g.action === 'delete' ? '-' : '~'} ${g.id} (${vmid(g.vmid)})${g.dependsOn.length ? `  after ${g.dependsOn.join(', ')}` : ''}\n`;
          for (const st of g.steps) text += `      ${st.name.padEnd(22)} ${st.reason}\n`;
          if (g.action === 'none' && g.steps.length === 0) text += `      (converged: nothing to do)\n`;
        }
      }
      for (const u of plan.unplaced) text += `\n! ${u.guest} cannot be placed: ${u.reason}\n`;
      const e = plan.estimate;
      const count = (a: string) => plan.guests.filter((g) => g.action === a).length;
      text += `\n${count('create')} to create, ${count('update')} to change, ${count('none')} unchanged, ${plan.unplaced.length} unplaceable\n`;
      text += `estimated makespan ${Math.round(e.makespanSeconds)} s (lower bound ${Math.round(e.lowerBoundSeconds)} s, one after another ${Math.round(e.sequentialSeconds)} s)\n`;
      text += `critical path: ${e.criticalPath.join(' → ')}\n`;
      return text;
    });
  });
}

export async function apply(io: CliIO, specPath: string, opts: { context?: string | undefined; output: 'table' | 'json'; timeout: string }): Promise<void> {
  const yaml = await readFile(specPath, 'utf8');
  const { compiled } = loadSpecText(yaml, specPath); // invalid specs stop here, before anything is stored
  const files = await readSpecScripts(compiled, specPath);
  await withSession(opts.context, async (s) => {
    const req = await submitRequest(s.store, 'apply', s.ctx.name, { yaml, files });
    io.err(`apply ${req.runId} submitted\n`);
    const summary = await watchRun(s, req.runId, io, { json: opts.output === 'json', timeoutMs: Number(opts.timeout) * 1000 });
    if (opts.output !== 'json') io.out(formatSummary(summary.guests));
  });
}

/** `delete <guest>` (guest set) or `destroy` (guest undefined). */
export async function removeGuests(
  io: CliIO,
  kind: 'delete' | 'destroy',
  guest: string | undefined,
  opts: { context?: string | undefined; yes?: boolean | undefined; timeout: string },
): Promise<void> {
  if (!opts.yes) throw new InvalidArgumentError('--yes', undefined, `${kind} removes guests; pass --yes to confirm`);
  await withSession(opts.context, async (s) => {
    if (guest) {
      const alloc = await new Allocator(s.store).get(guest);
      if (!alloc) throw new NotFoundError(`no guest named '${guest}' is allocated in this cluster`);
    }
    const req = await submitRequest(s.store, kind, s.ctx.name, guest ? { guest } : {});
    io.err(`${kind} ${req.runId} submitted\n`);
    const summary = await watchRun(s, req.runId, io, { json: false, timeoutMs: Number(opts.timeout) * 1000 });
    io.out(formatSummary(summary.guests));
  });
}

export async function status(io: CliIO, opts: { context?: string | undefined; output: string }): Promise<void> {
  const format = parseFormat(opts.output);
  await withSession(opts.context, async (s) => {
    const rows = await statusRows(s.store, (await s.view()).view);
    await render(io, format, rows, () =>
      formatTable(
        ['GUEST', 'VMID', 'NODE', 'DESIRED', 'OBSERVED', 'DRIFT'],
        rows.map((r) => [r.guest, r.vmid ? String(r.vmid) : '-', r.node ?? '-', r.desired, r.observed, r.drift.join('; ') || '-']),
      ),
    );
  });
}

export async function drain(io: CliIO, node: string, opts: { context?: string | undefined; undo?: true | undefined }): Promise<void> {
  await withSession(opts.context, async (s) => {
    const { guests } = await setDrained(s.store, node, !opts.undo);
    io.out(`${node}: ${opts.undo ? 'schedulable again' : 'drained: no new guests will be placed here'}\n`);
    if (!opts.undo && guests.length > 0) {
      io.out(`still on ${node} (local storage, move or delete them before maintenance):\n`);
      io.out(formatTable(['VMID', 'NAME', 'STATUS'], guests.map((g) => [String(g.vmid), g.name ?? '-', g.status])));
    }
  });
}

