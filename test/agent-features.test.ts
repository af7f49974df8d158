/**
 * The feature library's scripts in an emulated guest (real bash in the guest's rootfs with the
 * emulator's apt/dpkg/systemctl/docker/curl/pip shims): every feature installs, and a second run
 * is stopped by its own idempotency check before it changes anything. Then the pipeline's
 * runFeatures records them so a third request runs nothing at all.
 * Needs `npx tsc -b` first (the emulator runs from test/dist).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentv1 } from '@phoenix/shared';
import { createNodeDrivers, type CreatedNodeDrivers } from '../agent/src/drivers/index.js';
import { DEFAULT_FEATURES_DIR, featureByName } from '../agent/src/features/catalog.js';
import { resolveFeatures } from '../agent/src/features/resolve.js';
import { runGuestScript, type ScriptLine } from '../agent/src/features/runner.js';
import { createGuestPipeline, type PipelineEvent } from '../agent/src/pipeline/index.js';
import { startNodes, type EmulatedNodes } from './harness/index.js';

const UBUNTU = 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst';
const CA = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2Jx\nZm9vYmFyYmF6\n-----END CERTIFICATE-----\n';
let emu: EmulatedNodes;
let d: CreatedNodeDrivers;
let driverVersion: string;

/** In dependency order, with the parameters a Phoenix config would give. */
const FEATURES: Array<[string, Record<string, string>]> = [
  ['base_setup', {}],
  ['nvidia', {}],
  ['docker', {}],
  ['portainer', { role: 'server' }],
  ['python_api_service', {}],
  ['vllm', {}],
  ['ollama', {}],
  ['trusted_ca', { ca_cert: CA }],
  ['step_cli', {}],
  ['step_ca', {}],
  ['traefik', {}],
];

async function run(name: string, params: Record<string, string>): Promise<{ lines: ScriptLine[] }> {
  const [f] = resolveFeatures([{ name, params }], {
    guestKind: 'lxc',
    inherited: new Set(FEATURES.map(([n]) => n)),
    hasGpu: true,
    nodeDriverVersion: driverVersion,
  });
  const def = featureByName(name)!;
  const lines: ScriptLine[] = [];
  await runGuestScript(d, {
    guestKind: 'lxc',
    vmid: 120,
    kind: 'feature',
    name,
    body: await readFile(join(DEFAULT_FEATURES_DIR, def.script), 'utf8'),
    env: f!.env,
    featuresDir: DEFAULT_FEATURES_DIR,
    timeoutMs: 120_000,
    onLine: (l) => lines.push(l),
  });
  return { lines };
}

beforeAll(async () => {
  emu = await startNodes({ nodes: [{ name: 'pve5', gpus: 1, templates: [UBUNTU] }], timeScale: 0.001 });
  const n = emu.nodes[0]!;
  d = createNodeDrivers({
    node: n.name,
    executor: { binDir: n.binDir, path: n.env['PATH'] ?? '', env: n.env, timeoutMs: 120_000 },
    lxcConfDir: `${n.stateDir}/lxc`,
    hostRoot: `${n.stateDir}/host`,
  });
  driverVersion = (await d.facts.nvidia()).driverVersion ?? '';
  await d.pct.create(120, `local:vztmpl/${UBUNTU}`, {
    hostname: 'features',
    rootfs: 'local-zfs:8',
    unprivileged: true,
    features: 'keyctl=1,nesting=1',
    dev0: '/dev/nvidia0',
    dev1: '/dev/nvidiactl',
    dev2: '/dev/nvidia-uvm',
    dev3: '/dev/nvidia-uvm-tools',
  });
  await d.pct.start(120);
});

afterAll(async () => {
  await emu?.teardown();
});

describe('feature scripts in an emulated guest', () => {
  it.each(FEATURES)('%s installs, and a second run stops at its idempotency check', async (name, params) => {
    const first = await run(name, params);
    expect(first.lines.some((l) => /already/.test(l.line))).toBe(false);
    const second = await run(name, params);
    expect(second.lines.map((l) => l.line)).toEqual([expect.stringMatching(new RegExp(`^phoenix: ${name}.*already`))]);
  });

  it('records what runFeatures installed; asking again runs nothing in the guest', async () => {
    const pipeline = createGuestPipeline({ drivers: d, logger: pino({ level: 'silent' }) });
    const refs = FEATURES.slice(0, 5).map(([name, params]) => agentv1.FeatureRef.fromPartial({ name, params }));
    const events: PipelineEvent[] = [];
    const res = await pipeline.runFeatures(120, refs, { signal: AbortSignal.timeout(120_000), emit: (e) => events.push(e) });
    expect(res.changedSteps).toEqual(refs.map((r) => `feature:${r.name}`));
    // The scripts found everything in place (installed above) and said so.
    expect(events.filter((e) => e.log && /already/.test(e.log.line))).toHaveLength(refs.length);
    const before = d.stats().mutating;
    const again = await pipeline.runFeatures(120, refs, { signal: AbortSignal.timeout(60_000), emit: () => undefined });
    expect(again.changed).toBe(false);
    expect(d.stats().mutating).toBe(before);
    const guest = await pipeline.getGuest(120);
    expect(guest.installedFeatures).toEqual(refs.map((r) => r.name));
  });
});
