/**
 * SetupHost: validate → observe → plan → (dry run: stream the plan | run it action by action).
 * Every action is one step in the progress stream; a run that fails half-way says which steps
 * were done and which were not.
 */
import { FailedPreconditionError, isPhoenixError, PartiallyAppliedError, agentv1 } from '@phoenix/shared';
import type { MutationResult, ProgressSink } from '../grpc/backend.js';
import { lineDiff } from './diff.js';
import { UnsafeDiskError } from './errors.js';
import { ensureDirectory, writeAtomic, writeParameter } from './files.js';
import { sameRules } from './firewall.js';
import { observeHost, readFirewallRules, type HostIo } from './observe.js';
import { planHost } from './plan.js';
import type { HostAction } from './types.js';
import { validateHostSpec } from './validate.js';

export interface SetupHostOptions {
  signal: AbortSignal;
  progress: ProgressSink;
  dryRun: boolean;
  now?: () => Date;
}

const { STARTED, DONE, SKIPPED, FAILED } = agentv1.StepState;

export async function setupHost(spec: agentv1.HostSpec, io: HostIo, options: SetupHostOptions): Promise<MutationResult> {
  const { progress, signal } = options;
  validateHostSpec(spec);
  const plan = planHost(spec, await observeHost(spec, io, signal));

  for (const step of plan.converged) progress.step({ step, state: SKIPPED, message: 'already as specified' });
  for (const d of plan.drift) {
    progress.step({ step: d.step, state: SKIPPED, message: `drift reported, not repaired: ${d.message}` });
    progress.log({ step: d.step, line: `drift: ${d.message}`, stderr: true });
  }
  if (plan.refusals.length > 0) {
    for (const r of plan.refusals) progress.step({ step: `pool:${r.pool}`, state: FAILED, message: `${r.disk}: ${r.reason}` });
    for (const a of plan.actions) progress.step({ step: a.step, state: SKIPPED, message: `not done: ${a.summary}` });
    throw new UnsafeDiskError(plan.refusals);
  }

  const steps = unique(plan.actions.map((a) => a.step));
  if (options.dryRun) {
    for (const a of plan.actions) {
      progress.step({ step: a.step, state: DONE, changed: true, message: `would ${a.summary}` });
      for (const line of describe(a, io)) progress.log({ step: a.step, line });
    }
    return { changed: plan.actions.length > 0, changedSteps: steps };
  }

  const done: string[] = [];
  for (const [i, a] of plan.actions.entries()) {
    signal.throwIfAborted();
    progress.step({ step: a.step, state: STARTED, message: a.summary });
    for (const line of describe(a, io)) progress.log({ step: a.step, line });
    try {
      const note = await execute(a, io, options);
      progress.step({ step: a.step, state: DONE, changed: true, message: note ? `${a.summary}; ${note}` : a.summary });
      done.push(`${a.step} (${a.summary})`);
    } catch (err) {
      const rest = plan.actions.slice(i + 1);
      progress.step({ step: a.step, state: FAILED, message: err instanceof Error ? err.message : String(err) });
      for (const r of rest) progress.step({ step: r.step, state: SKIPPED, message: `not done: ${r.summary}` });
      if (done.length === 0 && isPhoenixError(err)) throw err;
      const notDone = [`${a.step} (${a.summary}, failed)`, ...rest.map((r) => `${r.step} (${r.summary})`)];
      throw new PartiallyAppliedError(
        `host setup stopped at ${a.step}: ${err instanceof Error ? err.message : String(err)}. Done: ${done.join(', ') || 'nothing'}. Not done: ${notDone.join(', ')}`,
        { cause: err, details: { done, notDone } },
      );
    }
  }
  return { changed: plan.actions.length > 0, changedSteps: steps };
}

async function execute(a: HostAction, io: HostIo, options: SetupHostOptions): Promise<string | undefined> {
  switch (a.kind) {
    case 'command': {
      const args = a.tool === 'apparmorParser' ? a.args.map((x, i) => (i === a.args.length - 1 ? hostPath(io, x) : x)) : a.args;
      if (a.guard && !sameRules(await readFirewallRules(io, a.guard.path, options.signal), a.guard.rules)) {
        throw new FailedPreconditionError(`the rules at ${a.guard.path} changed while host setup ran; run it again to plan on what is there now`);
      }
      await io.executor.run({ tool: a.tool, args, mutating: true, signal: options.signal });
      return undefined;
    }
    case 'file': {
      const { backup } = await writeAtomic(io.hostRoot, a.path, a.after, (options.now ?? (() => new Date()))());
      return backup ? `previous content saved to ${backup}` : undefined;
    }
    case 'sysfs':
      await writeParameter(io.hostRoot, a.path, a.value);
      return undefined;
    case 'dir':
      await ensureDirectory(io.hostRoot, a.path, a.uid, a.gid, a.mode);
      return undefined;
  }
}

/** The exact command (as run) or the file diff of an action. */
function describe(a: HostAction, io: HostIo): string[] {
  switch (a.kind) {
    case 'command': {
      const args = a.tool === 'apparmorParser' ? a.args.map((x, i) => (i === a.args.length - 1 ? hostPath(io, x) : x)) : a.args;
      return [`$ ${[io.executor.toolPath(a.tool), ...args].map(quote).join(' ')}`];
    }
    case 'file':
      return lineDiff(a.path, a.before, a.after);
    case 'sysfs':
      return [`write ${a.value} to ${a.path}`];
    case 'dir':
      return [`${a.create ? 'mkdir -p' : 'keep'} ${a.path}; chown ${a.uid}:${a.gid}${a.mode === undefined ? '' : `; chmod 0${a.mode.toString(8)}`}`];
  }
}

/** A node path as a tool on this machine opens it. */
function hostPath(io: HostIo, path: string): string {
  return io.hostRoot === '/' ? path : `${io.hostRoot.replace(/\/$/, '')}${path}`;
}

function quote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}
