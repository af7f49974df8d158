/**
 * The ensure algorithm, one for every guest kind. Everything is checked before the first change:
 * the spec, stale locks, the clone source and its snapshot, the features (against what the source
 * already has), the kind's own plan (GPUs), and the configuration diff (a disk shrink fails here).
 * Then: ensure_exists (the kind creates from its own source, or the tool clones), configure (ONE
 * `pct set`/`qm set` plus the kind's extras), resize, and the tail (start, features, application,
 * health, template).
 */
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from '@phoenix/shared';
import { parsePveBool } from '../drivers/parse-config.js';
import type { GuestConfig } from '../drivers/types.js';
import { resolveFeatures } from '../features/resolve.js';
import type { InstalledRecord } from '../features/record.js';
import { sig, type PipelineContext } from './context.js';
import type { GuestChanges, GuestKindDriver } from './guest-kind.js';
import { guestOps } from './guest-ops.js';
import { otherKindHolding, readConfig, readOwnConfig, recordOf } from './guest-state.js';
import { settleLock } from './recovery.js';
import { validateSpec } from './spec-validate.js';
import { StepRunner } from './steps.js';
import { absentSummary, summaryOf } from './summaries.js';
import { ENSURE_TAIL, runTail } from './tail/index.js';
import type { EnsureOptions, GuestSpec, PipelineResult } from './types.js';

export interface EnsureScope {
  /** Stop after configure and resize (the single-step RPCs). */
  untilConfigured?: boolean;
  /** Refuse to create when missing (configure) or when present (create/clone). */
  mustExist?: boolean;
  mustNotExist?: boolean;
}

interface CloneSource {
  vmid: number;
  snapshot: string;
  full: boolean;
  storage: string;
  /** A linked clone was asked for, but the source is no template: cloned in full. */
  linkedRefused: boolean;
}

export async function ensureGuest(c: PipelineContext, kind: GuestKindDriver, spec: GuestSpec, o: EnsureOptions, scope: EnsureScope = {}): Promise<PipelineResult> {
  validateSpec(spec);
  const dry = o.dryRun === true;
  const vmid = spec.vmid;
  const word = kind.word;
  const steps = new StepRunner(o.emit, o.signal);
  const recover = (message: string) => o.emit({ step: 'recover', state: 'done', message, changed: true });

  // Live state of the target, with stale locks settled.
  let cfg = await readOwnConfig(c, kind, vmid, o);
  if (cfg?.values['lock']) {
    const r = await settleLock(c, kind, vmid, cfg, { role: 'target', dryRun: dry, onAction: recover }, o);
    if (r.kind === 'removed' || r.kind === 'would-remove') {
      if (r.kind === 'would-remove') recover(`would remove ${word} ${vmid}, left half-made (lock ${r.lock})`);
      cfg = undefined;
    } else {
      cfg = r.cfg;
      if (r.kind === 'would-unlock') recover(`would remove stale lock '${r.lock}'`);
    }
    if (r.kind !== 'clear') steps.changedSteps.push('recover');
  }
  if (scope.mustExist && !cfg) throw new NotFoundError(`${word} ${vmid} does not exist`);
  if (scope.mustNotExist && cfg) throw new AlreadyExistsError(`${word} ${vmid} already exists on node '${c.node}'`);

  const plan = await kind.plan(c, spec, cfg, o);

  // Where a missing guest comes from, and what it inherits.
  let inherited = recordOf(cfg);
  let clone: CloneSource | undefined;
  if (!cfg) {
    const src = spec.source?.kind;
    if (!src) throw new FailedPreconditionError(`${word} ${vmid} does not exist and the spec has no source to create it from`);
    if (src.$case === 'clone') {
      const s = src.value;
      const found = await cloneSource(c, kind, steps, s, dry, o, recover);
      clone = found.source;
      inherited = found.record;
    }
  }
  const features = resolveFeatures(spec.features, {
    guestKind: kind.kind,
    inherited: new Set(inherited.keys()),
    hasGpu: plan.hasGpu,
    nodeDriverVersion: plan.nodeDriverVersion,
  });
  plan.checkFeatures(features.length, cfg);
  // Validates the whole diff (shrinks, volume moves, privilege changes) before any change.
  let changes: GuestChanges | undefined = cfg ? plan.diff(cfg) : undefined;

  // ensure_exists
  const existed = cfg !== undefined;
  if (existed) {
    steps.skip('ensure_exists', `${word} ${vmid} exists`);
  } else {
    await steps.run('ensure_exists', `creating ${word} ${vmid}`, async (ctx) => {
      if (!clone) return { changed: true, message: await plan.create(ctx, o) };
      const cs = clone;
      const how = `${cs.full ? 'full' : 'linked'} clone of ${word} ${cs.vmid}${cs.snapshot ? ` snapshot ${cs.snapshot}` : ''}`;
      if (dry) return { changed: true, message: `would create ${word} ${vmid} as a ${how}` };
      if (cs.linkedRefused) {
        ctx.log(`${word} ${cs.vmid} is not a template: a linked clone is impossible, cloning in full`);
      }
      await c.inflight.track([vmid, cs.vmid], () =>
        kind.tool(c.d).clone(cs.vmid, vmid, {
          ...(spec.hostname ? { name: spec.hostname } : {}),
          ...(cs.snapshot ? { snapname: cs.snapshot } : {}),
          ...(cs.full ? { full: true } : {}),
          ...(cs.full && cs.storage ? { storage: cs.storage } : {}),
        }, { ...sig(o), onLine: (l) => ctx.log(l) }),
      );
      return { changed: true, message: `${word} ${vmid} created as a ${how}` };
    });
    if (!dry) {
      cfg = await kind.tool(c.d).config(vmid, sig(o));
      changes = plan.diff(cfg);
    }
  }

  // configure
  let restartNeeded = false;
  if (!cfg || !changes) {
    steps.skip('configure', 'would be configured from the spec when created');
  } else if (!changes.configures) {
    steps.skip('configure', 'configuration matches the spec');
  } else {
    const ch = changes;
    const running = existed ? (await kind.tool(c.d).status(vmid, sig(o))) === 'running' : false;
    await steps.run('configure', `configuring ${word} ${vmid}`, async (ctx) => {
      for (const line of ch.summary) ctx.log(line);
      restartNeeded = running && ch.needsRestart;
      if (dry) return { changed: true, message: `would change: ${ch.summary.join('; ')}` };
      await ch.apply(o);
      return { changed: true, message: `changed: ${ch.summary.join('; ')}${restartNeeded ? ' (restart needed)' : ''}` };
    });
  }

  // resize (grow only; shrinking was refused above)
  if (changes && changes.resize.length > 0) {
    const list = changes.resize;
    await steps.run('resize', `growing ${list.map((r) => r.disk).join(', ')}`, async () => {
      if (dry) return { changed: true, message: `would grow ${list.map((r) => `${r.disk} to ${r.size}`).join(', ')}` };
      for (const r of list) await c.inflight.track([vmid], () => kind.tool(c.d).resize(vmid, r.disk, r.size, sig(o)));
      return { changed: true, message: list.map((r) => `${r.disk} → ${r.size}`).join(', ') };
    });
  } else {
    steps.skip('resize', 'disks have the requested size');
  }

  if (!scope.untilConfigured) {
    if (!dry && cfg) cfg = await kind.tool(c.d).config(vmid, sig(o));
    await runTail(c, {
      spec,
      guest: guestOps(c, kind, vmid),
      steps,
      o,
      features,
      cfg,
      record: cfg ? recordOf(cfg) : inherited,
      changedBefore: steps.changed,
      restartNeeded,
    }, ENSURE_TAIL);
  }
  const guest = cfg ? await summaryOf(c, kind, vmid) : absentSummary(kind, vmid);
  return { changed: steps.changed, changedSteps: [...steps.changedSteps], guest };
}

/** The clone source, checked and with stale locks settled, and the record a clone inherits. */
async function cloneSource(
  c: PipelineContext,
  kind: GuestKindDriver,
  steps: StepRunner,
  s: { sourceVmid: number; snapshot: string; full: boolean; targetStorage: string },
  dry: boolean,
  o: EnsureOptions,
  recover: (message: string) => void,
): Promise<{ source: CloneSource; record: InstalledRecord }> {
  const word = kind.word;
  let srcCfg: GuestConfig | undefined = await readConfig(c, kind, s.sourceVmid, o);
  if (!srcCfg) {
    const other = await otherKindHolding(c, kind, s.sourceVmid, o);
    if (other) throw new FailedPreconditionError(`clone source ${s.sourceVmid} is ${other.noun}, not ${kind.noun}`);
    throw new FailedPreconditionError(`clone source ${word} ${s.sourceVmid} does not exist (yet); build it first`);
  }
  if (srcCfg.values['lock']) {
    const r = await settleLock(c, kind, s.sourceVmid, srcCfg, { role: 'source', dryRun: dry, onAction: recover }, o);
    if (r.kind === 'removed' || r.kind === 'would-remove') throw new FailedPreconditionError(`clone source ${word} ${s.sourceVmid} disappeared`);
    srcCfg = r.cfg;
    if (r.kind === 'unlocked' || r.kind === 'would-unlock') steps.changedSteps.push('recover');
  }
  let record = recordOf(srcCfg);
  if (s.snapshot) {
    const snaps = await kind.tool(c.d).listSnapshots(s.sourceVmid, sig(o));
    if (!snaps.some((x) => x.name === s.snapshot)) {
      throw new FailedPreconditionError(`${word} ${s.sourceVmid} has no snapshot '${s.snapshot}' yet; its pipeline must finish first`);
    }
    record = recordOf(await kind.tool(c.d).config(s.sourceVmid, { ...sig(o), snapshot: s.snapshot }));
  }
  const template = parsePveBool(srcCfg.values['template']);
  return { source: { vmid: s.sourceVmid, snapshot: s.snapshot, full: s.full || !template, storage: s.targetStorage, linkedRefused: !s.full && !template }, record };
}
