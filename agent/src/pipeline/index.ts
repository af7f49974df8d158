/**
 * The guest pipeline: what phoenix-agent does to LXC containers and VMs on its node.
 *
 * Public API (the daemon calls exactly this):
 *
 *   const pipeline = createGuestPipeline({ drivers, logger, featuresDir?, node?, isOperationActive?, timing?, gpuMode? });
 *
 *   ensure(spec, { signal, emit, dryRun?, isOperationActive? }): Promise<PipelineResult>
 *       The whole pipeline, idempotent: ensure_exists (create from an OS template / cloud image, or
 *       clone), configure (one `pct set`/`qm set` with the changed keys only, raw lxc lines),
 *       resize (grow only), start (bounded retries), feature:<name> (in order, output streamed),
 *       application, health, template. Spec, features, GPUs and the whole diff are validated
 *       before the first change (InvalidArgumentError naming the field). A converged guest gets
 *       no mutating call. Stale PVE locks left by a dead operation are settled first (step
 *       `recover`). dryRun streams the same steps with "would …" and changes nothing.
 *   create(spec, opts) / clone(spec, opts)   ensure_exists + configure + resize only
 *   configure(spec, opts)                     configure + resize of an existing guest
 *   start(vmid, opts) / stop(vmid, { …opts, shutdownTimeoutSeconds? })
 *   remove(vmid, { …opts, force?, purge? })
 *   snapshot(vmid, name, { …opts, description? }) / rollback(vmid, name, { …opts, start? })
 *   exec(vmid, command, { signal, stdin?, timeoutSeconds? }): { exitCode, stdout, stderr }
 *   push(vmid, path, content, { …opts, mode? })
 *   runFeatures(vmid, features, opts)         features only, on a running guest
 *   listGuests(opts?) / getGuest(vmid, opts?)
 *   recoverInterrupted(target?, opts?): { actions }   target: a VMID, or the daemon's interrupted
 *       operations ({ vmid }[]); without one every guest is checked for create/clone/destroyed/disk
 *       locks no running operation owns.
 *
 * Events: PipelineEvent { step, state: started|done|skipped|failed, message, changed, percent?,
 * log? }. `toStepProgress`/`toLogLine` turn them into the agent API's messages.
 */
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  agentv1,
  parseOrThrow,
  snapshotNameSchema,
  vmidSchema,
  type commonv1,
} from '@phoenix/shared';
import { guestPathSchema } from '../drivers/args.js';
import { DEFAULT_FEATURES_DIR } from '../features/catalog.js';
import { resolveFeatures } from '../features/resolve.js';
import { InflightRegistry, isActive, sig, type PipelineContext } from './context.js';
import { ensureGuest } from './ensure.js';
import type { GuestKindDriver } from './guest-kind.js';
import { guestOps, type GuestOps } from './guest-ops.js';
import { kindOf, readConfig, recordOf } from './guest-state.js';
import { KINDS, kindNamed, kindOfSpec } from './kinds.js';
import { settleLock } from './recovery.js';
import { withRetries } from './retry.js';
import { StepRunner } from './steps.js';
import { absentSummary, getGuest, listGuests, summaryOf } from './summaries.js';
import { FEATURES_ONLY, runTail } from './tail/index.js';
import {
  DEFAULT_TIMING,
  type EnsureOptions,
  type GuestPipelineDeps,
  type GuestSpec,
  type PipelineEvent,
  type PipelineOptions,
  type PipelineResult,
} from './types.js';

export type { PipelineEvent, PipelineResult, PipelineOptions, EnsureOptions, GuestPipelineDeps, PipelineTiming } from './types.js';
export { DEFAULT_TIMING } from './types.js';

export interface InterruptedOperationRef {
  vmid: number;
  id?: string;
  key?: string;
  kind?: string;
}

export interface GuestPipeline {
  ensure(spec: GuestSpec, opts: EnsureOptions): Promise<PipelineResult>;
  create(spec: GuestSpec, opts: PipelineOptions): Promise<PipelineResult>;
  clone(spec: GuestSpec, opts: PipelineOptions): Promise<PipelineResult>;
  configure(spec: GuestSpec, opts: PipelineOptions): Promise<PipelineResult>;
  start(vmid: number, opts: PipelineOptions): Promise<PipelineResult>;
  stop(vmid: number, opts: PipelineOptions & { shutdownTimeoutSeconds?: number }): Promise<PipelineResult>;
  remove(vmid: number, opts: PipelineOptions & { force?: boolean; purge?: boolean }): Promise<PipelineResult>;
  snapshot(vmid: number, name: string, opts: PipelineOptions & { description?: string }): Promise<PipelineResult>;
  rollback(vmid: number, name: string, opts: PipelineOptions & { start?: boolean }): Promise<PipelineResult>;
  exec(
    vmid: number,
    command: string[],
    opts: { signal: AbortSignal; emit?: (e: PipelineEvent) => void; stdin?: Buffer | string; timeoutSeconds?: number },
  ): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  push(vmid: number, path: string, content: Buffer | string, opts: PipelineOptions & { mode?: string }): Promise<PipelineResult>;
  runFeatures(vmid: number, features: agentv1.FeatureRef[], opts: PipelineOptions): Promise<PipelineResult>;
  listGuests(opts?: { signal?: AbortSignal }): Promise<commonv1.GuestSummary[]>;
  getGuest(vmid: number, opts?: { signal?: AbortSignal }): Promise<agentv1.GetGuestResponse>;
  recoverInterrupted(
    target?: number | readonly InterruptedOperationRef[],
    opts?: { signal?: AbortSignal; isOperationActive?: (vmid: number) => boolean },
  ): Promise<{ actions: string[] }>;
}

const STEP_STATE: Record<PipelineEvent['state'], agentv1.StepState> = {
  started: agentv1.StepState.STARTED,
  done: agentv1.StepState.DONE,
  skipped: agentv1.StepState.SKIPPED,
  failed: agentv1.StepState.FAILED,
};

/** A step event as the agent API's StepProgress (undefined for log events). */
export function toStepProgress(e: PipelineEvent): agentv1.StepProgress | undefined {
  if (e.log) return undefined;
  return { step: e.step, state: STEP_STATE[e.state], message: e.message, changed: e.changed, percent: e.percent ?? 0 };
}

/** A log event as the agent API's LogLine (undefined for step events). */
export function toLogLine(e: PipelineEvent): agentv1.LogLine | undefined {
  return e.log ? { step: e.step, line: e.log.line, stderr: e.log.stderr } : undefined;
}

export function createGuestPipeline(deps: GuestPipelineDeps): GuestPipeline {
  const c: PipelineContext = {
    d: deps.drivers,
    log: deps.logger,
    node: deps.node ?? deps.drivers.node,
    featuresDir: deps.featuresDir ?? DEFAULT_FEATURES_DIR,
    timing: { ...DEFAULT_TIMING, ...(deps.timing ?? {}) },
    gpuMode: deps.gpuMode ?? 'dev',
    inflight: new InflightRegistry(),
    depsIsActive: deps.isOperationActive,
  };

  const ensure = (spec: GuestSpec, opts: EnsureOptions, scope?: Parameters<typeof ensureGuest>[4]) => ensureGuest(c, kindOfSpec(spec), spec, opts, scope);

  async function requireGuest(vmid: number, o?: { signal?: AbortSignal }): Promise<GuestOps> {
    parseOrThrow(vmidSchema, vmid, 'vmid');
    const kind = await kindOf(c, vmid, o);
    if (!kind) throw new NotFoundError(`guest ${vmid} does not exist on ${c.node}`);
    return guestOps(c, kind, vmid);
  }

  async function single(vmid: number, o: PipelineOptions, fn: (g: GuestOps, steps: StepRunner) => Promise<void>): Promise<PipelineResult> {
    const g = await requireGuest(vmid, o);
    const steps = new StepRunner(o.emit, o.signal);
    await fn(g, steps);
    const exists = await readConfig(c, g.driver, vmid, o);
    return { changed: steps.changed, changedSteps: steps.changedSteps, guest: exists ? await summaryOf(c, g.driver, vmid, o) : absentSummary(g.driver, vmid) };
  }

  return {
    ensure: (spec, opts) => ensure(spec, opts),

    create(spec, opts) {
      const k = spec.source?.kind?.$case;
      if (k !== 'osTemplate' && k !== 'cloudImage' && k !== 'installIso') {
        throw new InvalidArgumentError('source', k ?? 'none', 'create needs an os_template, cloud_image or install_iso source');
      }
      // A create or clone asks for a new guest: one already holding the VMID is someone else's.
      return ensure(spec, opts, { untilConfigured: true, mustNotExist: true });
    },

    clone(spec, opts) {
      if (spec.source?.kind?.$case !== 'clone') throw new InvalidArgumentError('source', spec.source?.kind?.$case ?? 'none', 'clone needs a clone source');
      return ensure(spec, opts, { untilConfigured: true, mustNotExist: true });
    },

    configure: (spec, opts) => ensure(spec, opts, { untilConfigured: true, mustExist: true }),

    start: (vmid, o) =>
      single(vmid, o, async (g, steps) => {
        if ((await g.status(sig(o))) === 'running') return steps.skip('start', `${g.word} ${vmid} is running`);
        await steps.run('start', `starting ${g.word} ${vmid}`, async (ctx) => {
          await withRetries(c.timing.startAttempts, c.timing.startBackoffMs, () => g.start(sig(o)), {
            ...sig(o),
            onRetry: (err, n, wait) => ctx.log(`start attempt ${n} failed (${err instanceof Error ? err.message : String(err)}); retrying in ${wait} ms`, true),
          });
          return { changed: true, message: `${g.word} ${vmid} started` };
        });
      }),

    stop: (vmid, o) =>
      single(vmid, o, async (g, steps) => {
        if ((await g.status(sig(o))) === 'stopped') return steps.skip('stop', `${g.word} ${vmid} is stopped`);
        await steps.run('stop', `stopping ${g.word} ${vmid}`, async () => {
          await g.shutdown(o.shutdownTimeoutSeconds ?? c.timing.shutdownTimeoutSeconds, sig(o));
          return { changed: true, message: `${g.word} ${vmid} stopped` };
        });
      }),

    async remove(vmid, o) {
      parseOrThrow(vmidSchema, vmid, 'vmid');
      const steps = new StepRunner(o.emit, o.signal);
      const kind = await kindOf(c, vmid, o);
      if (!kind) {
        steps.skip('remove', `guest ${vmid} does not exist`);
        return { changed: false, changedSteps: [], guest: absentSummary(kindNamed('lxc'), vmid) };
      }
      const g = guestOps(c, kind, vmid);
      const cfg = await readConfig(c, kind, vmid, o);
      if (cfg?.values['lock']) {
        const r = await settleLock(c, kind, vmid, cfg, { role: 'target', dryRun: false, onAction: (m) => o.emit({ step: 'recover', state: 'done', message: m, changed: true }) }, o);
        if (r.kind === 'removed') return { changed: true, changedSteps: ['recover'], guest: absentSummary(kind, vmid) };
      }
      const running = (await g.status(sig(o))) === 'running';
      if (running && !o.force) throw new FailedPreconditionError(`${g.word} ${vmid} is running; stop it first or pass force`);
      await steps.run('remove', `removing ${g.word} ${vmid}`, async () => {
        await c.inflight.track([vmid], async () => {
          if (running) await g.shutdown(c.timing.shutdownTimeoutSeconds, sig(o));
          await g.destroy({ purge: o.purge ?? false }, sig(o));
        });
        return { changed: true, message: `${g.word} ${vmid} removed` };
      });
      return { changed: true, changedSteps: steps.changedSteps, guest: absentSummary(kind, vmid) };
    },

    snapshot: (vmid, name, o) =>
      single(vmid, o, async (g, steps) => {
        parseOrThrow(snapshotNameSchema, name, 'name');
        if ((await g.listSnapshots(sig(o))).some((s) => s.name === name)) return steps.skip('snapshot', `snapshot ${name} exists`);
        await steps.run('snapshot', `snapshot ${name}`, async () => {
          await g.snapshot(name, o.description || undefined, sig(o));
          return { changed: true, message: `snapshot ${name} taken` };
        });
      }),

    rollback: (vmid, name, o) =>
      single(vmid, o, async (g, steps) => {
        parseOrThrow(snapshotNameSchema, name, 'name');
        await steps.run('rollback', `rolling back to ${name}`, async () => {
          await g.rollback(name, o.start ?? false, sig(o));
          return { changed: true, message: `rolled back to ${name}` };
        });
      }),

    async exec(vmid, command, o) {
      const g = await requireGuest(vmid, o);
      if (command.length === 0) throw new InvalidArgumentError('command', command, 'must not be empty');
      const input = o.stdin === undefined || o.stdin.length === 0 ? undefined : o.stdin.toString();
      const timeoutMs = (o.timeoutSeconds && o.timeoutSeconds > 0 ? o.timeoutSeconds : 600) * 1000;
      return g.exec(command, { mutating: true, timeoutMs, ...sig(o), ...(input !== undefined ? { input } : {}) });
    },

    push: (vmid, path, content, o) =>
      single(vmid, o, async (g, steps) => {
        parseOrThrow(guestPathSchema, path, 'path');
        const mode = o.mode || '0644';
        if (!/^0?[0-7]{3,4}$/.test(mode)) throw new InvalidArgumentError('mode', mode, 'must be octal such as 0644');
        await steps.run('push', `writing ${path}`, async () => {
          await g.push(path, content, mode, sig(o));
          return { changed: true, message: `${path} written` };
        });
      }),

    runFeatures: (vmid, refs, o) =>
      single(vmid, o, async (g, steps) => {
        const cfg = await g.config(sig(o));
        const record = recordOf(cfg);
        const features = resolveFeatures(refs, {
          guestKind: g.kind,
          inherited: new Set(record.keys()),
          hasGpu: g.driver.configHasGpu(cfg),
          nodeDriverVersion: await g.driver.nodeDriverVersion(c),
        });
        if ((await g.status(sig(o))) !== 'running') throw new FailedPreconditionError(`${g.word} ${vmid} must be running to install features`);
        const spec = agentv1.GuestSpec.fromPartial({ vmid, type: g.driver.type });
        await runTail(c, {
          spec,
          guest: g,
          steps,
          o,
          features,
          cfg,
          record,
          changedBefore: false,
          restartNeeded: false,
        }, FEATURES_ONLY);
      }),

    listGuests: (opts) => listGuests(c, opts),
    getGuest: (vmid, opts) => getGuest(c, parseOrThrow(vmidSchema, vmid, 'vmid'), opts),

    async recoverInterrupted(target, opts = {}) {
      const actions: string[] = [];
      const o: PipelineOptions = {
        signal: opts.signal ?? new AbortController().signal,
        emit: () => undefined,
        ...(opts.isOperationActive ? { isOperationActive: opts.isOperationActive } : {}),
      };
      const named = typeof target === 'number' ? [target] : Array.isArray(target) ? target.map((t) => t.vmid) : [];
      const candidates = new Map<number, GuestKindDriver>();
      for (const vmid of named) {
        const kind = await kindOf(c, vmid, o);
        if (kind) candidates.set(vmid, kind);
      }
      // Every guest whose lock only an operation that died can have left.
      if (typeof target !== 'number') {
        const guests = await listGuests(c, o);
        for (const kind of KINDS) {
          for (const g of guests) if (g.type === kind.type && kind.orphanLocks.includes(g.lock)) candidates.set(g.vmid, kind);
        }
      }
      for (const [vmid, kind] of candidates) {
        const cfg = await readConfig(c, kind, vmid, o);
        if (!cfg?.values['lock'] || isActive(c, vmid, o)) continue;
        try {
          await settleLock(c, kind, vmid, cfg, { role: 'target', dryRun: false, onAction: (m) => actions.push(m) }, o);
        } catch (err) {
          actions.push(`left ${kind.word} ${vmid} alone: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return { actions };
    },
  };
}
