/**
 * End to end: nats-server, three emulated nodes, three agent processes over mTLS and real
 * coordinator processes. Applies the imported Phoenix seed config and checks what the nodes say.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { guestRootfs, mutatingCalls, readCalls, readGuestConfig, readGuestConfigText } from './emulator/src/index.js';
import { repoRoot } from './harness/agent-process.js';
import { startDemoCluster, type DemoCluster } from './demo/cluster.js';
import { demoSpec } from './demo/spec.js';

const seedDir = resolve(repoRoot(), 'examples/phoenix');

/** The failed steps among the JSON events an apply printed, for the message of a failed check. */
function failedEvents(stdout: string): string {
  return stdout
    .split('\n')
    .filter((l) => /"(failed|error)"/.test(l))
    .slice(-10)
    .join('\n');
}

function mutations(c: DemoCluster): number {
  return c.nodes.nodes.reduce((n, node) => n + mutatingCalls(node.stateDir).length, 0);
}

function creations(c: DemoCluster): Map<string, number> {
  // Every create or clone ever run, by target VMID, across all nodes.
  const seen = new Map<string, number>();
  for (const node of c.nodes.nodes) {
    for (const call of readCalls(node.stateDir)) {
      const [sub, a, b] = call.argv;
      if ((call.tool === 'pct' || call.tool === 'qm') && (sub === 'create' || sub === 'clone')) {
        const vmid = `${node.name}/${sub === 'clone' ? b : a}`;
        seen.set(vmid, (seen.get(vmid) ?? 0) + 1);
      }
    }
  }
  return seen;
}

/** What a user does on fresh nodes before the first apply: AppArmor profiles, subuid/subgid, storages. */
async function setUpNodes(c: DemoCluster, specFile: string): Promise<void> {
  const r = await c.cli(['node', 'setup', '--all', specFile]);
  expect(r.code, r.stderr.slice(-1500)).toBe(0);
}

async function waitForNodes(c: DemoCluster, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = await c.cli(['nodes', '--output', 'json']);
    const ready = (n: { status: string; cpu: { cores: number }; storages: unknown[] }) => n.status === 'up' && n.cpu.cores > 0 && n.storages.length > 0;
    if (r.code === 0 && (JSON.parse(r.stdout) as { nodes: Parameters<typeof ready>[0][] }).nodes.filter(ready).length >= count) return;
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error('nodes did not come up');
}

describe('cluster - apply the seed config end to end', () => {
  let c: DemoCluster;
  let specFile: string;

  beforeAll(async () => {
    c = await startDemoCluster({ timeScale: 0.01 });
    specFile = await demoSpec(seedDir, c, join(c.dir, 'spec.yaml'));
    await waitForNodes(c, 3);
    await setUpNodes(c, specFile);
  }, 120_000);
  afterAll(async () => c?.teardown(), 60_000);

  it('plan mutates nothing anywhere', async () => {
    const before = mutations(c);
    const r = await c.cli(['plan', specFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('estimated makespan');
    expect(r.stdout).toMatch(/critical path: /);
    const why = await c.cli(['explain', 'Copy-VLLM-GPUx2', specFile]);
    expect(why.code, why.stderr).toBe(0);
    expect(why.stdout).toMatch(/Copy-VLLM-GPUx2 → pve[12]/);
    expect(why.stdout).toMatch(/pve3\s+rejected \(\w+\)\s+\w+: needs/);
    expect(mutations(c)).toBe(before);
  }, 60_000);

  it('applies every guest of the seed config across the nodes', async () => {
    const r = await c.cli(['apply', specFile, '--output', 'json']);
    expect(r.code, `${r.stderr.slice(-1500)}\n${failedEvents(r.stdout)}`).toBe(0);
    // Status compares with the observed state, which arrives by telemetry and the leader's stored
    // view (persisted every second): wait until it has caught up with the last guests' start. A real
    // drift never clears.
    let rows: { guest: string; node?: string; drift: string[] }[] = [];
    await vi.waitFor(
      async () => {
        const status = await c.cli(['status', '--output', 'json']);
        rows = JSON.parse(status.stdout) as typeof rows;
        expect(rows.length).toBeGreaterThanOrEqual(15);
        for (const row of rows) expect(row.drift, row.guest).toEqual([]);
      },
      { timeout: 30_000, interval: 500 },
    );
    expect(new Set(rows.map((x) => x.node)).size).toBeGreaterThanOrEqual(2);
    // Nothing was created twice.
    for (const [vmid, n] of creations(c)) expect(n, vmid).toBe(1);
  }, 400_000);

  it('a second apply changes nothing on any node', async () => {
    const before = mutations(c);
    const r = await c.cli(['apply', specFile, '--output', 'json']);
    expect(r.code, `${r.stderr.slice(-1500)}\n${failedEvents(r.stdout)}`).toBe(0);
    expect(mutations(c)).toBe(before);
  }, 300_000);

  it('a changed guest is the only thing changed', async () => {
    const spec = parse(await readFile(specFile, 'utf8')) as { containers: { name: string; cores?: number; applicationScript?: string }[] };
    const stepCa = spec.containers.find((g) => g.name === 'Step-CA')!;
    stepCa.cores = (stepCa.cores ?? 2) + 1;
    // An application script kept beside the spec travels with it and runs inside the guest.
    await mkdir(join(c.dir, 'apps'), { recursive: true });
    await writeFile(join(c.dir, 'apps', 'hello.sh'), '#!/bin/bash\necho "hello from $(hostname)" > /root/phoenix-hello\n');
    stepCa.applicationScript = 'apps/hello.sh';
    const changed = join(c.dir, 'spec-changed.yaml');
    await writeFile(changed, stringify(spec));
    const node = c.nodes.nodes.find((n) => readGuestConfig(n.stateDir, 103))!;
    const before = c.nodes.nodes.map((n) => mutatingCalls(n.stateDir).length);
    // The plan asks the agents for a dry run: exactly this change, and nothing changed by asking.
    const plan = await c.cli(['plan', changed]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/0 to create, 1 to change, \d+ unchanged/);
    expect(plan.stdout).toMatch(/~ Step-CA \(103\)[^\n]*\n\s+configure\s+[^\n]*cores/);
    expect(c.nodes.nodes.map((n) => mutatingCalls(n.stateDir).length)).toEqual(before);
    const r = await c.cli(['apply', changed, '--output', 'json']);
    expect(r.code, `${r.stderr.slice(-1500)}\n${failedEvents(r.stdout)}`).toBe(0);
    expect(readGuestConfigText(node.stateDir, 103)).toMatch(new RegExp(`^cores: ${stepCa.cores}$`, 'm'));
    expect(readFileSync(join(guestRootfs(node.stateDir, 103), 'root', 'phoenix-hello'), 'utf8')).toBe('hello from Step-CA\n');
    const newCalls = c.nodes.nodes.flatMap((n, i) => mutatingCalls(n.stateDir).slice(before[i]));
    expect(newCalls.length).toBeGreaterThan(0);
    for (const call of newCalls) expect(call.argv.join(' ')).toMatch(/\b103\b/);
    specFile = changed;
  }, 300_000);

  it('delete removes one guest and frees its allocation; destroy removes the rest', async () => {
    const node = c.nodes.nodes.find((n) => readGuestConfig(n.stateDir, 101))!;
    const del = await c.cli(['delete', 'Nginx-Phoenix', '--yes']);
    expect(del.code, del.stderr.slice(-2000)).toBe(0);
    expect(readGuestConfig(node.stateDir, 101)).toBeUndefined();
    const refused = await c.cli(['delete', 'Nginx-Phoenix', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/no guest named 'Nginx-Phoenix'/);

    const destroy = await c.cli(['destroy', '--yes']);
    expect(destroy.code, destroy.stderr.slice(-2000)).toBe(0);
    for (const n of c.nodes.nodes) {
      for (const vmid of [100, 102, 103, 900, 901, 910, 911, 912, 914, 917, 9000, 1001, 1002]) {
        expect(readGuestConfig(n.stateDir, vmid), `${n.name}/${vmid}`).toBeUndefined();
      }
    }
  }, 300_000);

  it('refuses an invalid spec with exit 2 before storing anything', async () => {
    const bad = join(c.dir, 'bad.yaml');
    await writeFile(bad, stringify({ ...(parse(await readFile(specFile, 'utf8')) as object), version: 'two' }));
    const r = await c.cli(['apply', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/version/);
    const noScript = join(c.dir, 'no-script.yaml');
    const spec = parse(await readFile(specFile, 'utf8')) as { containers: { applicationScript?: string }[] };
    spec.containers[0]!.applicationScript = 'apps/missing.sh';
    await writeFile(noScript, stringify(spec));
    const r2 = await c.cli(['apply', noScript]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/containers\.0\.applicationScript: no such file beside the spec/);
  }, 60_000);
});

describe('cluster - leader failover mid-apply', () => {
  let c: DemoCluster;

  beforeAll(async () => {
    c = await startDemoCluster({ timeScale: 0.02, coordinators: ['coord-a', 'coord-b'], leaseTtlMs: 3000 });
    await waitForNodes(c, 3);
    await setUpNodes(c, await demoSpec(seedDir, c, join(c.dir, 'spec.yaml')));
  }, 120_000);
  afterAll(async () => c?.teardown(), 60_000);

  it('the standby finishes the apply and no step is done twice', async () => {
    const specFile = await demoSpec(seedDir, c, join(c.dir, 'spec.yaml'));
    const apply = c.cli(['apply', specFile, '--output', 'json']);
    // Let the leader get going, then kill it (no clean shutdown, lease not released).
    const deadline = Date.now() + 120_000;
    let leader: string | undefined;
    while (!leader && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      for (const [id] of c.coordinators) {
        const log = await readFile(join(c.dir, 'logs', `coordinator-${id}.log`), 'utf8').catch(() => '');
        if (log.includes('"run started"') && creations(c).size >= 2) leader = id;
      }
    }
    expect(leader).toBeDefined();
    await c.stopCoordinator(leader!, 'SIGKILL');
    const r = await apply;
    expect(r.code, `${r.stderr.slice(-1500)}\n${r.stdout.split('\n').filter((l) => l.includes('unplaced') || l.includes('failed')).join('\n')}`).toBe(0);
    const survivor = [...c.coordinators.keys()][0]!;
    const log = await readFile(join(c.dir, 'logs', `coordinator-${survivor}.log`), 'utf8');
    expect(log).toMatch(/"resume":true/);
    for (const [vmid, n] of creations(c)) expect(n, vmid).toBe(1);
  }, 400_000);
});
