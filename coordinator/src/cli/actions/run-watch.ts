/**
 * Follows an apply run: events from `phoenix.events.<cluster>.apply` rendered as progress (listr2
 * on stderr, or JSON lines on stdout), with the journal polled as a safety net so a missed event
 * or a leader change never leaves the CLI waiting forever.
 */
import { subjects, PartiallyAppliedError, CommandFailedError, TimeoutError } from '@phoenix/shared';
import { ApplyJournal } from '../../state/index.js';
import type { RunEvent } from '../../requests/index.js';
import { jsonProgress, listrProgress, type ProgressSink } from '../../progress/index.js';
import type { PlannedGuest } from '../../plan/index.js';
import type { ClusterSession } from './cluster-session.js';
import { formatTable, type CliIO } from '../io.js';

export interface RunSummary {
  runId: string;
  state: string;
  guests: Record<string, { node?: string; vmid?: number; status: string; changed: boolean; error?: string }>;
}

export async function watchRun(
  session: ClusterSession,
  runId: string,
  io: CliIO,
  options: { json: boolean; timeoutMs: number },
): Promise<RunSummary> {
  const summary: RunSummary = { runId, state: 'running', guests: {} };
  let sink: ProgressSink | undefined = options.json ? jsonProgress({ write: (s: string) => (io.out(s), true) } as never) : undefined;
  const planned = new Map<string, PlannedGuest>();
  const guestOf = (e: RunEvent): PlannedGuest =>
    planned.get(e.guest ?? '') ?? { id: e.guest ?? '?', vmid: e.vmid ?? 0, node: e.node ?? '?', action: 'create', steps: [], dependsOn: [] };
  const journal = new ApplyJournal(session.store);
  return await new Promise<RunSummary>((resolve, reject) => {
    let settled = false;
    const finish = (state: string, error?: string): void => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      clearTimeout(timer);
      sub.unsubscribe();
      summary.state = state;
      void (sink?.close() ?? Promise.resolve()).then(() => {
        if (state === 'succeeded') resolve(summary);
        else if (state === 'partial') reject(new PartiallyAppliedError(`run ${runId} partially applied`, { details: { summary } }));
        else reject(new CommandFailedError(`run ${runId} failed${error ? `: ${error}` : ''}`, { details: { summary } }));
      });
    };
    const sub = session.nc.subscribe(subjects.events(session.ctx.cluster, 'apply'), {
      callback: (_err, msg) => {
        let e: RunEvent;
        try {
          e = msg.json<RunEvent>();
        } catch {
          return;
        }
        if (e.runId !== runId) return;
        if (e.type === 'plan' && e.message && !options.json) {
          const plan = JSON.parse(e.message) as { guests: { id: string; node: string; vmid: number; action: PlannedGuest['action'] }[] };
          for (const g of plan.guests) planned.set(g.id, { ...g, steps: [], dependsOn: [] });
          sink = listrProgress([...planned.values()]);
          return;
        }
        if (e.type === 'finished') return finish(e.runState ?? 'failed', e.error);
        if (e.type === 'cluster') {
          // One line per install stage and host, beside the guests' progress.
          if (options.json) io.out(`${JSON.stringify(e)}\n`);
          else io.err(`${e.guest ?? 'openshift'}${e.host ? ` ${e.host}` : ''}: ${e.step} ${e.state}${e.message ? ` — ${e.message}` : ''}\n`);
          return;
        }
        if (e.type === 'done' && e.guest) {
          summary.guests[e.guest] = { status: e.status ?? '?', changed: e.changed ?? false, ...(e.node ? { node: e.node } : {}), ...(e.vmid ? { vmid: e.vmid } : {}), ...(e.error ? { error: e.error } : {}) };
        }
        const g = guestOf(e);
        if (!sink) return;
        if (e.type === 'start') sink.onEvent({ type: 'start', guest: g });
        else if (e.type === 'progress') sink.onEvent({ type: 'progress', guest: g, step: e.step ?? '', state: e.state ?? '', message: e.message ?? '' });
        else if (e.type === 'log') sink.onEvent({ type: 'log', guest: g, step: e.step ?? '', line: e.message ?? '' });
        else if (e.type === 'done') sink.onEvent({ type: 'done', guest: g, outcome: { id: g.id, status: (e.status ?? 'failed') as 'failed', changed: e.changed ?? false, ...(e.error ? { error: new Error(e.error) } : {}) } });
      },
    });
    const poll = setInterval(() => {
      void journal.getRun(runId).then((run) => {
        if (run && run.state !== 'running') setTimeout(() => finish(run.state), 500);
      }, () => undefined);
    }, 2000);
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      sub.unsubscribe();
      reject(new TimeoutError(`run ${runId} did not finish within ${options.timeoutMs / 1000} s (it goes on in the coordinator)`));
    }, options.timeoutMs);
  });
}

/** One row per guest of a finished run. */
export function formatSummary(guests: Record<string, { node?: string; vmid?: number; status: string; changed: boolean; error?: string }>): string {
  const rows = Object.entries(guests).map(([id, g]) => [id, g.vmid ? String(g.vmid) : '-', g.node ?? '-', g.status, g.changed ? 'changed' : 'unchanged', g.error ?? '']);
  return formatTable(['GUEST', 'VMID', 'NODE', 'RESULT', 'CHANGE', 'ERROR'], rows.sort((a, b) => a[0]!.localeCompare(b[0]!)));
}
