/**
 * OpenShift end to end on three emulated nodes: real nats-server, agents over mTLS, a coordinator
 * process driving the emulated openshift-install. A single-node, a compact and a 3+2 cluster are
 * installed with control planes on distinct nodes; a cluster that cannot fit is refused before
 * anything of it exists; re-applying changes nothing; destroy leaves no VM, ISO, secret or
 * allocation behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mutatingCalls, readCalls } from './emulator/src/index.js';
import { startDemoCluster, type DemoCluster } from './demo/cluster.js';
import { putOpenShiftSecrets, writeOpenShiftSpec } from './demo/openshift-spec.js';

interface Vm {
  node: string;
  vmid: number;
  name: string;
  config: string;
}

/** Every VM on every emulated node, read from its qemu-server config. */
function vms(c: DemoCluster): Vm[] {
  return c.nodes.nodes.flatMap((n) => {
    const dir = join(n.stateDir, 'qemu-server');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => /^\d+\.conf$/.test(f))
      .map((f) => {
        const config = readFileSync(join(dir, f), 'utf8');
        return { node: n.name, vmid: Number(f.slice(0, -5)), name: /^name: (.+)$/m.exec(config)?.[1] ?? '', config };
      });
  });
}

function isoFiles(c: DemoCluster): string[] {
  return c.nodes.nodes.flatMap((n) => {
    const dir = join(n.stateDir, 'storage', 'local', 'template', 'iso');
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('phoenix-')).map((f) => `${n.name}:${f}`) : [];
  });
}

const mutations = (c: DemoCluster): number => c.nodes.nodes.reduce((n, node) => n + mutatingCalls(node.stateDir).length, 0);

async function waitForNodes(c: DemoCluster): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = await c.cli(['nodes', '--output', 'json']);
    if (r.code === 0 && (JSON.parse(r.stdout) as { nodes: { status: string; storages: unknown[] }[] }).nodes.filter((n) => n.status === 'up' && n.storages.length > 0).length === 3) return;
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error('nodes did not come up');
}

describe('OpenShift clusters across three nodes', () => {
  let c: DemoCluster;
  let spec: string;
  let applyOut = '';

  beforeAll(async () => {
    c = await startDemoCluster({ timeScale: 0.01 });
    spec = await writeOpenShiftSpec(join(c.dir, 'openshift.yaml'), ['sno', 'compact', 'ha']);
    await waitForNodes(c);
  }, 120_000);
  afterAll(async () => c?.teardown(), 60_000);

  it('holds every VM back while the pull secret is missing: nothing is created', async () => {
    const r = await c.cli(['apply', spec, '--output', 'json']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/secret kv:openshift\/pull-secret does not exist/);
    expect(vms(c)).toEqual([]);
    expect(readCalls(c.nodes.nodes[0]!.stateDir).filter((x) => x.tool === 'qm' && x.argv[0] === 'create')).toEqual([]);
  }, 120_000);

  it('installs a single-node, a compact and a 3+2 cluster with control planes on distinct nodes', async () => {
    await putOpenShiftSecrets(c);
    const r = await c.cli(['apply', spec, '--output', 'json']);
    applyOut = r.stdout + r.stderr;
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const all = vms(c);
    expect(all.map((v) => v.name).sort()).toEqual(['compact-cp0', 'compact-cp1', 'compact-cp2', 'ha-cp0', 'ha-cp1', 'ha-cp2', 'ha-w0', 'ha-w1', 'sno-cp0']);
    for (const cluster of ['compact', 'ha']) {
      const nodes = all.filter((v) => v.name.startsWith(`${cluster}-cp`)).map((v) => v.node);
      expect(new Set(nodes).size, `${cluster} control planes on ${nodes.join(',')}`).toBe(3);
    }
    for (const v of all) {
      expect(v.config).toMatch(/^cpu: host$/m);
      expect(v.config).toMatch(new RegExp(`^ide2: local:iso/phoenix-${v.name.split('-')[0]}-agent\\.x86_64\\.iso,media=cdrom`, 'm'));
      expect(v.config).toMatch(/^boot: order=scsi0;ide2$/m);
    }
    // Each cluster's ISO is on exactly the nodes hosting its VMs.
    const expected = new Set(all.map((v) => `${v.node}:phoenix-${v.name.split('-')[0]}-agent.x86_64.iso`));
    expect(new Set(isoFiles(c))).toEqual(expected);
    // Live progress: host stages, one event each.
    const events = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; guest?: string; host?: string; message?: string });
    const hostLines = events.filter((e) => e.type === 'cluster' && e.guest === 'openshift/ha' && e.host === 'ha-w1');
    expect(hostLines.some((e) => /Writing image to disk/.test(e.message ?? ''))).toBe(true);
    const status = await c.cli(['openshift', 'status', '--output', 'json']);
    const rows = (JSON.parse(status.stdout) as { clusters: { cluster: string; state: string; console: string }[] }).clusters;
    expect(rows.map((x) => [x.cluster, x.state]).sort()).toEqual([['compact', 'installed'], ['ha', 'installed'], ['sno', 'installed']]);
    expect(rows.find((x) => x.cluster === 'ha')?.console).toBe('https://console-openshift-console.apps.ha.lab.example.org');
  }, 600_000);

  it('gives the credentials on request only, and never in the apply output or the logs', async () => {
    const kubeconfig = await c.cli(['openshift', 'kubeconfig', 'ha']);
    expect(kubeconfig.code, kubeconfig.stderr).toBe(0);
    expect(kubeconfig.stdout).toContain('server: https://api.ha.lab.example.org:6443');
    const pw = await c.cli(['openshift', 'kubeadmin-password', 'ha']);
    expect(pw.code, pw.stderr).toBe(0);
    const password = pw.stdout.trim();
    expect(password).toMatch(/^\w{5}-\w{5}-\w{5}-\w{5}$/);
    expect(applyOut).not.toContain(password);
    const logs = readdirSync(join(c.dir, 'logs')).map((f) => readFileSync(join(c.dir, 'logs', f), 'utf8')).join('\n');
    expect(logs).not.toContain(password);
    expect(logs).not.toContain('not-a-real-token');
    // The install directory keeps no copy.
    expect(existsSync(join(c.dir, 'openshift', 'ha', 'auth'))).toBe(false);
  }, 60_000);

  it('a second apply changes nothing', async () => {
    const before = mutations(c);
    const r = await c.cli(['apply', spec, '--output', 'json']);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    expect(mutations(c)).toBe(before);
    expect(r.stdout).not.toMatch(/"type":"cluster"/);
  }, 120_000);

  it('refuses a cluster that cannot fit before anything of it is created, saying why', async () => {
    const bigger = await writeOpenShiftSpec(join(c.dir, 'openshift-big.yaml'), ['sno', 'compact', 'ha', 'too-big']);
    const before = mutations(c);
    const r = await c.cli(['apply', bigger, '--output', 'json']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/"guest":"big-cp\d".*"status":"unplaced"/);
    expect(r.stdout).toMatch(/placed whole or not at all/);
    expect(vms(c).filter((v) => v.name.startsWith('big-'))).toEqual([]);
    expect(mutations(c)).toBe(before);
    const why = await c.cli(['explain', 'big-cp0', bigger]);
    expect(why.stdout + why.stderr).toMatch(/memory|control-plane/);
  }, 120_000);

  it('destroy of one cluster leaves none of its VMs, ISOs, credentials or allocations', async () => {
    const r = await c.cli(['openshift', 'destroy', 'ha', '--yes']);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    expect(vms(c).filter((v) => v.name.startsWith('ha-'))).toEqual([]);
    expect(isoFiles(c).filter((f) => f.includes('phoenix-ha-'))).toEqual([]);
    const reveal = await c.cli(['openshift', 'kubeconfig', 'ha']);
    expect(reveal.code).not.toBe(0);
    const status = await c.cli(['openshift', 'status', '--output', 'json']);
    expect((JSON.parse(status.stdout) as { clusters: { cluster: string }[] }).clusters.map((x) => x.cluster).sort()).toEqual(['compact', 'sno']);
    expect(existsSync(join(c.dir, 'openshift', 'ha'))).toBe(false);
  }, 300_000);

  it('destroy removes everything else', async () => {
    const r = await c.cli(['destroy', '--yes']);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    expect(vms(c)).toEqual([]);
    expect(isoFiles(c)).toEqual([]);
    const status = await c.cli(['openshift', 'status', '--output', 'json']);
    expect((JSON.parse(status.stdout) as { clusters: unknown[] }).clusters).toEqual([]);
  }, 300_000);
});
