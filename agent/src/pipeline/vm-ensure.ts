/**
 * The VM pipeline: a cloud image imported as the boot disk (`qm create … --scsi0
 * <storage>:0,import-from=<image>` with a cloud-init drive) or a clone, then ONE `qm set` with
 * the changed keys (cloud-init user, SSH keys, IP config …), `qm cloudinit update` when
 * cloud-init input changed, disk growth, and the shared tail: start, guest agent wait (bounded),
 * features through the guest agent, application, health, snapshot / `qm template`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from '@phoenix/shared';
import { parsePropertyString, parsePveBool } from '../drivers/parse-config.js';
import type { GuestConfig } from '../drivers/types.js';
import { resolveFeatures } from '../features/resolve.js';
import { sig, type PipelineContext } from './context.js';
import { guestOps } from './guest-ops.js';
import { readConfig, readOwnConfig, recordOf } from './guest-state.js';
import { settleLock } from './recovery.js';
import { validateSpec } from './spec-validate.js';
import { StepRunner } from './steps.js';
import { absentSummary, summaryOf } from './summaries.js';
import { runTail } from './tail.js';
import type { EnsureOptions, GuestSpec, PipelineResult } from './types.js';
import { diffVm, sshKeysText, vmCreateParams, type VmChanges } from './vm-config.js';
import type { LxcEnsureScope } from './lxc-ensure.js';

/** Keys a running VM applies without a reboot. */
const HOT_KEYS = /^(description|tags|onboot|startup|name|protection)$/;

/** Runs fn with a private temp file holding `text` (the qm CLI reads SSH keys from a file). */
async function withKeyFile<T>(text: string | undefined, fn: (path: string | undefined) => Promise<T>): Promise<T> {
  if (text === undefined) return fn(undefined);
  const dir = await mkdtemp(join(tmpdir(), 'phoenix-keys-'));
  try {
    const file = join(dir, 'authorized_keys');
    await writeFile(file, text, { mode: 0o600 });
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function ensureVm(c: PipelineContext, spec: GuestSpec, o: EnsureOptions, scope: LxcEnsureScope = {}): Promise<PipelineResult> {
  validateSpec(spec);
  const dry = o.dryRun === true;
  const vmid = spec.vmid;
  const steps = new StepRunner(o.emit, o.signal);
  const recover = (message: string) => o.emit({ step: 'recover', state: 'done', message, changed: true });

  let cfg = await readOwnConfig(c, 'vm', vmid, o);
  if (cfg?.values['lock']) {
    const r = await settleLock(c, 'vm', vmid, cfg, { role: 'target', dryRun: dry, onAction: recover }, o);
    if (r.kind === 'removed' || r.kind === 'would-remove') {
      cfg = undefined;
      if (r.kind === 'would-remove') o.emit({ step: 'recover', state: 'done', message: `would remove VM ${vmid}, left half-made (lock ${r.lock})`, changed: true });
      steps.changedSteps.push('recover');
    } else {
      cfg = r.cfg;
      if (r.kind !== 'clear') steps.changedSteps.push('recover');
    }
  }
  if (scope.mustExist && !cfg) throw new NotFoundError(`VM ${vmid} does not exist`);
  if (scope.mustNotExist && cfg) throw new AlreadyExistsError(`VM ${vmid} already exists on node '${c.node}'`);

  let inherited = recordOf(cfg);
  const src = spec.source?.kind;
  let clone: { vmid: number; snapshot: string; full: boolean; storage: string } | undefined;
  if (!cfg) {
    if (!src) throw new FailedPreconditionError(`VM ${vmid} does not exist and the spec has no source to create it from`);
    if (src.$case === 'clone') {
      const s = src.value;
      let srcCfg = await readConfig(c, 'vm', s.sourceVmid, o);
      if (!srcCfg) throw new FailedPreconditionError(`clone source VM ${s.sourceVmid} does not exist (yet); build it first`);
      if (srcCfg.values['lock']) {
        const r = await settleLock(c, 'vm', s.sourceVmid, srcCfg, { role: 'source', dryRun: dry, onAction: recover }, o);
        if (r.kind === 'removed' || r.kind === 'would-remove') throw new FailedPreconditionError(`clone source VM ${s.sourceVmid} disappeared`);
        srcCfg = r.cfg;
      }
      if (s.snapshot) {
        const snaps = await c.d.qm.listSnapshots(s.sourceVmid, sig(o));
        if (!snaps.some((x) => x.name === s.snapshot)) throw new FailedPreconditionError(`VM ${s.sourceVmid} has no snapshot '${s.snapshot}' yet`);
        inherited = recordOf(await c.d.qm.config(s.sourceVmid, { ...sig(o), snapshot: s.snapshot }));
      } else {
        inherited = recordOf(srcCfg);
      }
      clone = { vmid: s.sourceVmid, snapshot: s.snapshot, full: s.full || !parsePveBool(srcCfg.values['template']), storage: s.targetStorage };
    } else if (src.$case !== 'cloudImage') {
      throw new FailedPreconditionError(`a VM cannot be created from ${src.$case}`);
    }
  }
  const features = resolveFeatures(spec.features, {
    guestKind: 'vm',
    inherited: new Set(inherited.keys()),
    hasGpu: false,
    nodeDriverVersion: undefined,
  });
  if (features.length > 0 && !(spec.vm?.guestAgent ?? false)) {
    const agentOn = cfg ? parsePveBool(parsePropertyString(cfg.values['agent'] ?? '', 'enabled').get('enabled')) : false;
    if (!agentOn) throw new FailedPreconditionError(`features in VM ${vmid} run through the QEMU guest agent: set vm.guest_agent`);
  }
  let changes: VmChanges | undefined = cfg ? diffVm(spec, cfg) : undefined;

  const existed = cfg !== undefined;
  if (existed) {
    steps.skip('ensure_exists', `VM ${vmid} exists`);
  } else {
    await steps.run('ensure_exists', `creating VM ${vmid}`, async (ctx) => {
      if (clone) {
        const cl = clone;
        const how = `${cl.full ? 'full' : 'linked'} clone of VM ${cl.vmid}${cl.snapshot ? ` snapshot ${cl.snapshot}` : ''}`;
        if (dry) return { changed: true, message: `would create VM ${vmid} as a ${how}` };
        await c.inflight.track([vmid, cl.vmid], () =>
          c.d.qm.clone(cl.vmid, vmid, {
            ...(spec.hostname ? { name: spec.hostname } : {}),
            ...(cl.snapshot ? { snapname: cl.snapshot } : {}),
            ...(cl.full ? { full: true } : {}),
            ...(cl.full && cl.storage ? { storage: cl.storage } : {}),
          }, { ...sig(o), onLine: (l) => ctx.log(l) }),
        );
        return { changed: true, message: `VM ${vmid} created as a ${how}` };
      }
      if (src?.$case !== 'cloudImage') throw new FailedPreconditionError('no cloud image to create the VM from');
      const image = src.value;
      if (dry) return { changed: true, message: `would create VM ${vmid} from cloud image ${image}` };
      const keys = spec.vm?.cloudInit?.sshKeys ?? [];
      await withKeyFile(keys.length > 0 ? sshKeysText(keys) : undefined, (keyFile) =>
        c.inflight.track([vmid], () =>
          c.d.qm.create(vmid, { ...vmCreateParams(spec, image), ...(keyFile ? { sshkeys: keyFile } : {}) }, { ...sig(o), onLine: (l) => ctx.log(l) }),
        ),
      );
      return { changed: true, message: `VM ${vmid} created from ${image}` };
    });
    if (!dry) {
      cfg = await c.d.qm.config(vmid, sig(o));
      changes = diffVm(spec, cfg);
    }
  }

  let restartNeeded = false;
  if (!cfg || !changes) {
    steps.skip('configure', 'would be configured from the spec when created');
  } else if (Object.keys(changes.set).length === 0 && changes.delete.length === 0 && changes.sshKeys === undefined) {
    steps.skip('configure', 'configuration matches the spec');
  } else {
    const ch = changes;
    const running = existed ? (await c.d.qm.status(vmid, sig(o))) === 'running' : false;
    await steps.run('configure', `configuring VM ${vmid}`, async (ctx) => {
      for (const line of ch.summary) ctx.log(line);
      restartNeeded = running && ([...Object.keys(ch.set), ...ch.delete].some((k) => !HOT_KEYS.test(k)) || ch.sshKeys !== undefined);
      if (dry) return { changed: true, message: `would change: ${ch.summary.join('; ')}` };
      await withKeyFile(ch.sshKeys, (keyFile) =>
        c.inflight.track([vmid], () => c.d.qm.set(vmid, { ...ch.set, ...(keyFile ? { sshkeys: keyFile } : {}) }, ch.delete, sig(o))),
      );
      if (ch.cloudinitChanged) await c.inflight.track([vmid], () => c.d.qm.cloudinitUpdate(vmid, sig(o)));
      return { changed: true, message: `changed: ${ch.summary.join('; ')}${restartNeeded ? ' (restart needed)' : ''}` };
    });
  }

  if (changes && changes.resize.length > 0) {
    const list = changes.resize;
    await steps.run('resize', `growing ${list.map((r) => r.disk).join(', ')}`, async () => {
      if (dry) return { changed: true, message: `would grow ${list.map((r) => `${r.disk} to ${r.size}`).join(', ')}` };
      for (const r of list) await c.inflight.track([vmid], () => c.d.qm.resize(vmid, r.disk, r.size, sig(o)));
      return { changed: true, message: list.map((r) => `${r.disk} → ${r.size}`).join(', ') };
    });
  } else {
    steps.skip('resize', 'disks have the requested size');
  }

  if (scope.until === 'exists' || scope.until === 'configure') return finish(c, vmid, steps, cfg);

  if (!dry && cfg) cfg = await c.d.qm.config(vmid, sig(o));
  await runTail(c, {
    spec,
    ops: guestOps(c, 'vm', vmid),
    steps,
    o,
    dry,
    features,
    cfg,
    record: cfg ? recordOf(cfg) : inherited,
    changedBefore: steps.changed,
    restartNeeded,
    waitForAgent: spec.vm?.guestAgent ?? false,
  });
  return finish(c, vmid, steps, cfg);
}

async function finish(c: PipelineContext, vmid: number, steps: StepRunner, cfg: GuestConfig | undefined): Promise<PipelineResult> {
  const guest = cfg ? await summaryOf(c, 'vm', vmid) : absentSummary('vm', vmid);
  return { changed: steps.changed, changedSteps: [...steps.changedSteps], guest };
}
