/**
 * The container pipeline. Everything is checked before the first change: the spec, stale locks,
 * the clone source and its snapshot, the features (against what the source already has), the
 * GPUs, and the configuration diff (a disk shrink fails here). Then: ensure_exists (create from
 * an OS template, downloading it if missing, or clone), configure (ONE `pct set` + raw lines),
 * resize, and the shared tail (start, features, application, health, template).
 */
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from '@phoenix/shared';
import { parsePveBool } from '../drivers/parse-config.js';
import type { GuestConfig } from '../drivers/types.js';
import { resolveFeatures } from '../features/resolve.js';
import { sig, type PipelineContext } from './context.js';
import { selectGpuDevices } from './gpu.js';
import { guestOps } from './guest-ops.js';
import { readConfig, readOwnConfig, recordOf } from './guest-state.js';
import { diffLxc, lxcCreateParams, lxcRawLines, type GpuInput, type LxcChanges } from './lxc-config.js';
import { settleLock } from './recovery.js';
import { validateSpec } from './spec-validate.js';
import { StepRunner } from './steps.js';
import { absentSummary, summaryOf } from './summaries.js';
import { runTail } from './tail.js';
import type { EnsureOptions, GuestSpec, PipelineResult } from './types.js';

export interface LxcEnsureScope {
  /** Stop after these phases (the single-step RPCs). */
  until?: 'exists' | 'configure';
  /** Refuse to create when missing (configure) or when present (create/clone). */
  mustExist?: boolean;
  mustNotExist?: boolean;
}

export async function ensureLxc(c: PipelineContext, spec: GuestSpec, o: EnsureOptions, scope: LxcEnsureScope = {}): Promise<PipelineResult> {
  validateSpec(spec);
  const dry = o.dryRun === true;
  const vmid = spec.vmid;
  const steps = new StepRunner(o.emit, o.signal);
  const recover = (message: string) => o.emit({ step: 'recover', state: 'done', message, changed: true });

  // Live state of the target, with stale locks settled.
  let cfg = await readOwnConfig(c, 'lxc', vmid, o);
  let wouldRemove = false;
  if (cfg?.values['lock']) {
    const r = await settleLock(c, 'lxc', vmid, cfg, { role: 'target', dryRun: dry, onAction: recover }, o);
    if (r.kind === 'removed') {
      cfg = undefined;
      steps.changedSteps.push('recover');
    } else if (r.kind === 'would-remove') {
      wouldRemove = true;
      cfg = undefined;
      o.emit({ step: 'recover', state: 'done', message: `would remove CT ${vmid}, left half-made (lock ${r.lock})`, changed: true });
      steps.changedSteps.push('recover');
    } else {
      cfg = r.cfg;
      if (r.kind === 'unlocked') steps.changedSteps.push('recover');
      if (r.kind === 'would-unlock') {
        o.emit({ step: 'recover', state: 'done', message: `would remove stale lock '${r.lock}'`, changed: true });
        steps.changedSteps.push('recover');
      }
    }
  }
  if (scope.mustExist && !cfg) throw new NotFoundError(`CT ${vmid} does not exist`);
  if (scope.mustNotExist && cfg) throw new AlreadyExistsError(`CT ${vmid} already exists on node '${c.node}'`);

  // GPUs: device numbers from the node, never assumed.
  const indices = spec.gpu?.indices ?? [];
  const nv = await c.d.facts.nvidia();
  const gpus = indices.length > 0 ? await c.d.nvidia.queryGpus(sig(o)) : [];
  const gpu: GpuInput = { mode: c.gpuMode, devices: selectGpuDevices(indices, gpus, nv) };

  // Where a missing CT comes from, and what it inherits.
  let inheritedRecord = recordOf(cfg);
  const src = spec.source?.kind;
  let cloneSource: { vmid: number; snapshot: string; full: boolean; storage: string; template: boolean } | undefined;
  if (!cfg) {
    if (!src) throw new FailedPreconditionError(`CT ${vmid} does not exist and the spec has no source to create it from`);
    if (src.$case === 'clone') {
      const s = src.value;
      let srcCfg = await readConfig(c, 'lxc', s.sourceVmid, o);
      if (!srcCfg) {
        if (await readConfig(c, 'vm', s.sourceVmid, o)) throw new FailedPreconditionError(`clone source ${s.sourceVmid} is a VM, not a container`);
        throw new FailedPreconditionError(`clone source CT ${s.sourceVmid} does not exist (yet); build it first`);
      }
      if (srcCfg.values['lock']) {
        const r = await settleLock(c, 'lxc', s.sourceVmid, srcCfg, { role: 'source', dryRun: dry, onAction: recover }, o);
        if (r.kind === 'removed' || r.kind === 'would-remove') throw new FailedPreconditionError(`clone source CT ${s.sourceVmid} disappeared`);
        srcCfg = r.cfg;
        if (r.kind === 'unlocked' || r.kind === 'would-unlock') steps.changedSteps.push('recover');
      }
      if (s.snapshot) {
        const snaps = await c.d.pct.listSnapshots(s.sourceVmid, sig(o));
        if (!snaps.some((x) => x.name === s.snapshot)) {
          throw new FailedPreconditionError(`CT ${s.sourceVmid} has no snapshot '${s.snapshot}' yet; its pipeline must finish first`);
        }
        inheritedRecord = recordOf(await c.d.pct.config(s.sourceVmid, { ...sig(o), snapshot: s.snapshot }));
      } else {
        inheritedRecord = recordOf(srcCfg);
      }
      const template = parsePveBool(srcCfg.values['template']);
      cloneSource = { vmid: s.sourceVmid, snapshot: s.snapshot, full: s.full || !template, storage: s.targetStorage, template };
    }
  }
  const features = resolveFeatures(spec.features, {
    guestKind: 'lxc',
    inherited: new Set(inheritedRecord.keys()),
    hasGpu: gpu.devices.length > 0,
    nodeDriverVersion: nv.driverVersion,
  });
  // Validates the whole diff (shrinks, volume moves, privilege changes) before any change.
  let changes: LxcChanges | undefined = cfg ? diffLxc(spec, cfg, gpu) : undefined;

  // ensure_exists
  const existed = cfg !== undefined;
  if (existed) {
    steps.skip('ensure_exists', `CT ${vmid} exists`);
  } else {
    await steps.run('ensure_exists', `creating CT ${vmid}`, async (ctx) => {
      if (src?.$case === 'clone' && cloneSource) {
        const cs = cloneSource;
        const how = `${cs.full ? 'full' : 'linked'} clone of CT ${cs.vmid}${cs.snapshot ? ` snapshot ${cs.snapshot}` : ''}`;
        if (dry) return { changed: true, message: `would create CT ${vmid} as a ${how}` };
        if (!src.value.full && !cs.template) ctx.log(`CT ${cs.vmid} is not a template: a linked clone is impossible, cloning in full`);
        await c.inflight.track([vmid, cs.vmid], () =>
          c.d.pct.clone(cs.vmid, vmid, {
            ...(spec.hostname ? { name: spec.hostname } : {}),
            ...(cs.snapshot ? { snapname: cs.snapshot } : {}),
            ...(cs.full ? { full: true } : {}),
            ...(cs.full && cs.storage ? { storage: cs.storage } : {}),
          }, { ...sig(o), onLine: (l) => ctx.log(l) }),
        );
        return { changed: true, message: `CT ${vmid} created as a ${how}` };
      }
      if (src?.$case !== 'osTemplate') throw new FailedPreconditionError(`a container cannot be created from ${src?.$case ?? 'nothing'}`);
      const template = src.value;
      if (dry) return { changed: true, message: `would create CT ${vmid} from ${template}` };
      await ensureOsTemplate(c, template, o, (l) => ctx.log(l));
      ctx.progress(30, `pct create ${vmid} from ${template}`);
      await c.inflight.track([vmid], () => c.d.pct.create(vmid, template, lxcCreateParams(spec, gpu), { ...sig(o), onLine: (l) => ctx.log(l) }));
      const raw = lxcRawLines(spec, gpu);
      if (raw.length > 0) await c.inflight.track([vmid], () => c.d.lxcConf.writeRaw(vmid, raw));
      return { changed: true, message: `CT ${vmid} created from ${template}` };
    });
    if (!dry) {
      cfg = await c.d.pct.config(vmid, sig(o));
      changes = diffLxc(spec, cfg, gpu);
    }
  }

  // configure
  let restartNeeded = false;
  if (!cfg || !changes) {
    steps.skip('configure', wouldRemove || dry ? 'would be configured from the spec when created' : 'nothing to configure');
  } else if (Object.keys(changes.set).length === 0 && changes.delete.length === 0 && changes.raw === undefined) {
    steps.skip('configure', 'configuration matches the spec');
  } else {
    const ch = changes;
    const running = existed ? (await c.d.pct.status(vmid, sig(o))) === 'running' : false;
    await steps.run('configure', `configuring CT ${vmid}`, async (ctx) => {
      for (const line of ch.summary) ctx.log(line);
      restartNeeded = running && ch.needsRestart;
      if (dry) return { changed: true, message: `would change: ${ch.summary.join('; ')}` };
      if (Object.keys(ch.set).length > 0 || ch.delete.length > 0) {
        await c.inflight.track([vmid], () => c.d.pct.set(vmid, ch.set, ch.delete, sig(o)));
      }
      if (ch.raw) {
        const raw = ch.raw;
        await c.inflight.track([vmid], () => c.d.lxcConf.writeRaw(vmid, raw));
      }
      return { changed: true, message: `changed: ${ch.summary.join('; ')}${restartNeeded ? ' (restart needed)' : ''}` };
    });
  }

  // resize (grow only; shrinking was refused above)
  if (changes && changes.resize.length > 0) {
    const list = changes.resize;
    await steps.run('resize', `growing ${list.map((r) => r.disk).join(', ')}`, async () => {
      if (dry) return { changed: true, message: `would grow ${list.map((r) => `${r.disk} to ${r.size}`).join(', ')}` };
      for (const r of list) await c.inflight.track([vmid], () => c.d.pct.resize(vmid, r.disk, r.size, sig(o)));
      return { changed: true, message: list.map((r) => `${r.disk} → ${r.size}`).join(', ') };
    });
  } else {
    steps.skip('resize', 'disks have the requested size');
  }

  if (scope.until === 'exists' || scope.until === 'configure') return finish(c, vmid, steps, dry, cfg);

  if (!dry && cfg) cfg = await c.d.pct.config(vmid, sig(o));
  await runTail(c, {
    spec,
    ops: guestOps(c, 'lxc', vmid),
    steps,
    o,
    dry,
    features,
    cfg,
    record: cfg ? recordOf(cfg) : inheritedRecord,
    changedBefore: steps.changed,
    restartNeeded,
    waitForAgent: false,
  });
  return finish(c, vmid, steps, dry, cfg);
}

async function finish(c: PipelineContext, vmid: number, steps: StepRunner, dry: boolean, cfg: GuestConfig | undefined): Promise<PipelineResult> {
  const guest = cfg ? await summaryOf(c, 'lxc', vmid) : absentSummary('lxc', vmid);
  return { changed: steps.changed, changedSteps: [...steps.changedSteps], guest };
}

/** OS template volume present on its storage, else downloaded with `pveam download`. */
async function ensureOsTemplate(c: PipelineContext, template: string, o: EnsureOptions, log: (l: string) => void): Promise<void> {
  if (template.startsWith('/')) return;
  const m = /^([^:]+):vztmpl\/(.+)$/.exec(template);
  if (!m || !m[1] || !m[2]) return;
  const [storage, file] = [m[1], m[2]];
  const present = await c.d.pveam.list(storage, sig(o));
  if (present.some((t) => t.volid === template)) return;
  log(`${file} is not on storage ${storage}: downloading it`);
  try {
    await c.d.pveam.download(storage, file, { ...sig(o), onLine: (l) => log(l) });
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    // The appliance index may be stale: refresh it once and retry.
    log('template not in the appliance index: running pveam update');
    await c.d.pveam.update(sig(o));
    await c.d.pveam.download(storage, file, { ...sig(o), onLine: (l) => log(l) });
  }
}

