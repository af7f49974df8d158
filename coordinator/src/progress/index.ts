/**
 * Apply progress for people and machines. People get one line per guest on stderr (listr2: live
 * on a terminal, plain lines otherwise) with the agent's feature progress streamed into it; machines
 * get `--output json` events, one JSON object per line on stdout.
 */
import { Listr, ProcessOutput, type ListrTaskWrapper } from 'listr2';
import type { ApplyEvent, GuestOutcome } from '../apply/index.js';
import type { PlannedGuest } from '../plan/index.js';

export interface ProgressSink {
  onEvent(event: ApplyEvent): void;
  /** Resolves once the display has flushed. */
  close(): Promise<void>;
}

/** One JSON object per event on `out`: stable field names, no colours. */
export function jsonProgress(out: NodeJS.WritableStream = process.stdout): ProgressSink {
  return {
    onEvent(event) {
      const base = { type: event.type, guest: event.guest.id, node: event.guest.node, vmid: event.guest.vmid, time: new Date().toISOString() };
      const extra =
        event.type === 'progress'
          ? { step: event.step, state: event.state, message: event.message }
          : event.type === 'log'
            ? { step: event.step, line: event.line }
            : event.type === 'done'
              ? { status: event.outcome.status, changed: event.outcome.changed, error: errorText(event.outcome) }
              : { action: event.guest.action };
      out.write(`${JSON.stringify({ ...base, ...extra })}\n`);
    },
    close: async () => undefined,
  };
}

function errorText(outcome: GuestOutcome): string | undefined {
  const e = outcome.error;
  return e === undefined ? undefined : e instanceof Error ? e.message : String(e);
}

/** listr2 on stderr: one task line per guest, its current step underneath. */
export function listrProgress(guests: readonly PlannedGuest[], stderr: NodeJS.WriteStream = process.stderr): ProgressSink {
  type Waiter = { wrapper?: ListrTaskWrapper<unknown, never, never>; resolve(): void; reject(e: Error): void };
  const waiters = new Map<string, Waiter>();
  // Outcomes that arrived before listr started the guest's task.
  const finished = new Map<string, GuestOutcome>();
  const settle = (g: PlannedGuest, o: GuestOutcome): void => {
    const w = waiters.get(g.id);
    if (!w) return void finished.set(g.id, o);
    if (w.wrapper) w.wrapper.title = `${title(g)} — ${o.status}${o.changed ? '' : ' (no change)'}`;
    if (o.status === 'converged' || o.status === 'skipped') w.resolve();
    else w.reject(new Error(errorText(o) ?? o.status));
  };
  const title = (g: PlannedGuest): string => `${g.id} (${g.vmid}) on ${g.node}: ${g.action}`;
  const list = new Listr(
    guests.map((g) => ({
      title: title(g),
      task: (_ctx: unknown, wrapper: ListrTaskWrapper<unknown, never, never>) => {
        const p = new Promise<void>((resolve, reject) => waiters.set(g.id, { wrapper, resolve, reject }));
        const early = finished.get(g.id);
        if (early) settle(g, early);
        return p;
      },
    })),
    {
      concurrent: true,
      exitOnError: false,
      renderer: stderr.isTTY && !process.env['NO_COLOR'] ? 'default' : 'simple',
      fallbackRenderer: 'simple',
      rendererOptions: { collapseErrors: false },
      processOutput: new ProcessOutput(stderr as NodeJS.WriteStream, stderr as NodeJS.WriteStream),
    } as never,
  );
  const done = list.run().catch(() => undefined);
  return {
    onEvent(event) {
      if (event.type === 'done') return settle(event.guest, event.outcome);
      const w = waiters.get(event.guest.id)?.wrapper;
      if (!w) return;
      // Steps only: a feature's own output lines would drown the one-line-per-guest view
      // (they are all in `--output json`).
      if (event.type === 'progress') w.output = `${event.guest.id}: ${event.step}: ${event.message}`;
    },
    close: () => done.then(() => undefined),
  };
}
