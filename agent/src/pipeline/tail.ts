/**
 * The part of the pipeline shared by containers and VMs, after the guest exists and is
 * configured: start (bounded retries), features in order (output streamed), application script,
 * health check (retries), template snapshot / conversion. Each step first checks the guest's
 * record and live state, so a converged guest gets no mutating call.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CommandFailedError, FailedPreconditionError, type agentv1 } from '@phoenix/shared';
import type { GuestConfig, GuestRunState } from '../drivers/types.js';
import { composeDescription, digest, splitDescription, type InstalledRecord } from '../features/record.js';
import type { ResolvedFeature } from '../features/resolve.js';
import { runGuestScript } from '../features/runner.js';
import { sig, type PipelineContext } from './context.js';
import type { GuestOps } from './guest-ops.js';
import { isTemplate, snapshotMatches } from './guest-state.js';
import { sleep, withRetries } from './retry.js';
import type { StepRunner } from './steps.js';
import type { EnsureOptions, GuestSpec } from './types.js';

export interface TailInput {
  spec: GuestSpec;
  ops: GuestOps;
  steps: StepRunner;
  o: EnsureOptions;
  dry: boolean;
  features: ResolvedFeature[];
  /** Live config after configure; undefined only in a dry run of a guest that does not exist yet. */
  cfg: GuestConfig | undefined;
  /** Record the guest starts with (inherited from the clone source in a dry run of a new guest). */
  record: InstalledRecord;
  /** Something changed in this run before the tail (created, cloned, configured, resized). */
  changedBefore: boolean;
  /** A running guest must restart to apply the configuration. */
  restartNeeded: boolean;
  /** Only the feature steps (RunFeatures on a running guest). */
  featuresOnly?: boolean;
}

export function appDigest(spec: GuestSpec): string | undefined {
  const app = spec.applicationScript;
  if (!app || (app.name === '' && app.content === '')) return undefined;
  return digest({ vmid: spec.vmid, name: app.name, content: app.content, args: app.args });
}

export function healthDigest(spec: GuestSpec): string | undefined {
  const hc = spec.healthCheck;
  if (!hc || hc.command.length === 0) return undefined;
  return digest({ vmid: spec.vmid, command: hc.command });
}

export async function runTail(c: PipelineContext, t: TailInput): Promise<void> {
  const { spec, ops, steps, o, dry } = t;
  const record = new Map(t.record);
  const pending = t.features.filter((f) => record.get(f.name) !== f.digest);
  const appD = appDigest(spec);
  const appPending = appD !== undefined && record.get('app') !== appD;
  const healthD = healthDigest(spec);
  const healthPending = healthD !== undefined && (record.get('health') !== healthD || pending.length > 0 || appPending || t.changedBefore);
  const insideWork = pending.length > 0 || appPending || healthPending;
  const layer = spec.templateSnapshot !== '' || spec.convertToTemplate;

  if (isTemplate(t.cfg) && !t.featuresOnly) {
    if (insideWork || t.changedBefore) {
      throw new FailedPreconditionError(`${ops.word} ${spec.vmid} is a Proxmox template and cannot change; remove it and build it again`);
    }
    for (const s of ['start', ...t.features.map((f) => `feature:${f.name}`), 'template']) steps.skip(s, `${ops.word} ${spec.vmid} is a template`);
    return;
  }

  let description = t.cfg?.values['description'] ?? '';
  const saveRecord = async () => {
    const human = spec.description || splitDescription(description).human;
    description = composeDescription(human, record);
    await ops.setDescription(description, sig(o));
  };

  // start
  let state: GuestRunState = t.cfg ? await ops.status(sig(o)) : 'stopped';
  if (t.featuresOnly) {
    // The caller checked that the guest runs.
  } else if (layer && !insideWork) {
    steps.skip('start', 'nothing to run inside; the template layer stays as it is');
  } else if (state === 'running' && !t.restartNeeded) {
    steps.skip('start', `${ops.word} ${spec.vmid} is running`);
  } else {
    await steps.run('start', `starting ${ops.word} ${spec.vmid}`, async (ctx) => {
      if (dry) return { changed: true, message: state === 'running' ? 'would restart to apply the configuration' : 'would start' };
      if (state === 'running') {
        ctx.progress(10, 'restarting to apply the configuration');
        await ops.shutdown(c.timing.shutdownTimeoutSeconds, sig(o));
      }
      await withRetries(c.timing.startAttempts, c.timing.startBackoffMs, () => ops.start(sig(o)), {
        ...sig(o),
        onRetry: (err, attempt, wait) => ctx.log(`start attempt ${attempt} failed (${err instanceof Error ? err.message : String(err)}); retrying in ${wait} ms`, true),
      });
      await ops.driver.waitReady(c, spec, (pct, msg) => ctx.progress(pct, msg), sig(o));
      state = 'running';
      return { changed: true, message: `${ops.word} ${spec.vmid} started` };
    });
  }

  // features
  for (const f of t.features) {
    const step = `feature:${f.name}`;
    if (record.get(f.name) === f.digest) {
      steps.skip(step, `${f.name} already installed`);
      continue;
    }
    await steps.run(step, `installing ${f.name}`, async (ctx) => {
      if (dry) return { changed: true, message: `would install ${f.name}` };
      const body = await readFile(join(c.featuresDir, f.def.script), 'utf8');
      await runGuestScript(c.d, {
        guestKind: ops.kind,
        vmid: spec.vmid,
        kind: 'feature',
        name: f.name,
        body,
        env: f.env,
        featuresDir: c.featuresDir,
        timeoutMs: c.timing.featureTimeoutMs,
        ...sig(o),
        onLine: (l) => ctx.log(l.line, l.stderr),
        onProgress: (pct, msg) => ctx.progress(pct, msg),
      });
      record.set(f.name, f.digest);
      await saveRecord();
      return { changed: true, message: `${f.name} installed` };
    });
  }

  if (t.featuresOnly) return;

  // application script
  const app = spec.applicationScript;
  if (appD === undefined || !app) {
    steps.skip('application', 'no application script');
  } else if (!appPending) {
    steps.skip('application', 'application script already ran with these arguments');
  } else {
    const label = app.name || 'inline';
    await steps.run('application', `running application script ${label}`, async (ctx) => {
      if (dry) return { changed: true, message: `would run application script ${label}` };
      const body = app.name ? await readFile(join(c.featuresDir, 'apps', `${app.name}.sh`), 'utf8') : app.content;
      await runGuestScript(c.d, {
        guestKind: ops.kind,
        vmid: spec.vmid,
        kind: 'app',
        name: app.name || 'inline',
        body,
        env: {},
        args: app.args,
        featuresDir: c.featuresDir,
        timeoutMs: c.timing.featureTimeoutMs,
        ...sig(o),
        onLine: (l) => ctx.log(l.line, l.stderr),
        onProgress: (pct, msg) => ctx.progress(pct, msg),
      });
      record.set('app', appD);
      await saveRecord();
      return { changed: true, message: `application script ${label} done` };
    });
  }

  // health check
  const hc = spec.healthCheck;
  if (healthD === undefined || !hc) {
    steps.skip('health', 'no health check');
  } else if (!healthPending) {
    steps.skip('health', 'healthy at the last change; nothing changed since');
  } else {
    await steps.run('health', `health check: ${hc.command.join(' ')}`, async (ctx) => {
      if (dry) return { changed: false, message: 'would run the health check' };
      await runHealthCheck(c, ops, hc, o, (line, err) => ctx.log(line, err));
      record.set('health', healthD);
      await saveRecord();
      return { changed: true, message: 'healthy' };
    });
  }

  // template snapshot / conversion
  if (!layer) {
    steps.skip('template', 'not a template layer');
    return;
  }
  if (spec.convertToTemplate) {
    await steps.run('template', `converting ${ops.word} ${spec.vmid} to a template`, async () => {
      if (dry) return { changed: true, message: 'would stop and convert to a template' };
      if ((await ops.status(sig(o))) === 'running') await ops.shutdown(c.timing.shutdownTimeoutSeconds, sig(o));
      await ops.template(sig(o));
      return { changed: true, message: `${ops.word} ${spec.vmid} is now a template` };
    });
    return;
  }
  const name = spec.templateSnapshot;
  if (dry && !t.cfg) {
    await steps.run('template', `snapshot ${name}`, async () => ({ changed: true, message: `would stop and take snapshot ${name}` }));
    return;
  }
  const snaps = await ops.listSnapshots(sig(o));
  const exists = snaps.some((s) => s.name === name);
  const live = await ops.config(sig(o));
  const current = exists && snapshotMatches(live, await ops.snapshotConfig(name, sig(o)));
  const running = (await ops.status(sig(o))) === 'running';
  if (current && !running) {
    steps.skip('template', `snapshot ${name} is current`);
    return;
  }
  await steps.run('template', `template snapshot ${name}`, async (ctx) => {
    if (dry) return { changed: true, message: current ? 'would stop the template layer' : `would stop and ${exists ? 'retake' : 'take'} snapshot ${name}` };
    if (running) {
      ctx.progress(10, `stopping ${ops.word} ${spec.vmid}`);
      await ops.shutdown(c.timing.shutdownTimeoutSeconds, sig(o));
    }
    if (current) return { changed: true, message: `stopped; snapshot ${name} is current` };
    if (exists) {
      ctx.progress(40, `snapshot ${name} is stale: removing it`);
      await ops.delsnapshot(name, sig(o));
    }
    ctx.progress(60, `taking snapshot ${name}`);
    // PVE does not copy the guest's description into a snapshot; the snapshot's own comment is
    // its description, and a clone from the snapshot gets that as its description. So the record
    // of installed features travels as the comment.
    await ops.snapshot(name, composeDescription('', record), sig(o));
    return { changed: true, message: `snapshot ${name} taken` };
  });
}

async function runHealthCheck(
  c: PipelineContext,
  ops: GuestOps,
  hc: agentv1.HealthCheck,
  o: EnsureOptions,
  log: (line: string, stderr: boolean) => void,
): Promise<void> {
  const retries = hc.retries > 0 ? hc.retries : c.timing.healthRetriesDefault;
  const interval = hc.intervalSeconds > 0 ? hc.intervalSeconds * 1000 : c.timing.healthIntervalMsDefault;
  let last = '';
  for (let attempt = 1; attempt <= retries; attempt++) {
    const res = await ops.exec(hc.command, { mutating: false, timeoutMs: Math.max(30_000, interval * 2), ...sig(o) });
    if (res.exitCode === 0) return;
    last = (res.stderr.trim() || res.stdout.trim()).split('\n').pop() ?? '';
    log(`attempt ${attempt}/${retries}: exit ${res.exitCode}${last ? `: ${last}` : ''}`, true);
    if (attempt < retries) await sleep(interval, o.signal);
  }
  throw new CommandFailedError(`health check of ${ops.word} ${ops.vmid} failed ${retries} time(s)${last ? `: ${last}` : ''}`, {
    details: { vmid: ops.vmid, command: hc.command },
  });
}
