/**
 * The `phoenix` CLI as a user runs it: the built bin (coordinator/bin/phoenix.js → dist), spawned
 * without a shell, on the three-node view and the example spec. Needs the build (`npx tsc -b`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'coordinator/bin/phoenix.js');
const VIEW = join(ROOT, 'test/fixtures/views/three-nodes.yaml');
const SPEC = join(ROOT, 'coordinator/examples/lab.yaml');
const SEEDS = join(ROOT, 'examples');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function phoenix(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let tmp = '';
beforeAll(() => {
  if (!existsSync(join(ROOT, 'coordinator/dist/cli/main.js'))) {
    throw new Error('coordinator/dist is missing: build first (npx tsc -b)');
  }
  tmp = mkdtempSync(join(tmpdir(), 'phoenix-cli-'));
});

describe('phoenix CLI', () => {
  it('prints help with examples and the exit codes, and its version', async () => {
    const help = await phoenix('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('2 usage or invalid input');
    for (const cmd of ['validate', 'import', 'nodes', 'plan', 'explain']) expect(help.stdout).toContain(cmd);
    const planHelp = await phoenix('plan', '--help');
    expect(planHelp.stdout).toContain('phoenix plan --view view.yaml cluster.yaml');
    expect((await phoenix('--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exits 2 on usage errors', async () => {
    const none = await phoenix();
    expect(none.code).toBe(2);
    const unknown = await phoenix('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const format = await phoenix('nodes', '--view', VIEW, '--output', 'xml');
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('xml');
    // without --view, plan works on a live cluster and needs its context
    const missing = await phoenix('plan', SPEC);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--context');
    const noSpec = await phoenix('explain', 'web-2', '--view', VIEW);
    expect(noSpec.code).toBe(2);
    expect(noSpec.stderr).toContain("missing required argument 'spec'");
  });

  it('validates a spec (0) and names the field and value of a bad one (2)', async () => {
    const ok = await phoenix('validate', SPEC, '--output', 'json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, cluster: 'lab', containers: 7, vms: 2 });
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(
      bad,
      readFileSync(SPEC, 'utf8')
        .replace('memoryMiB: 65536', 'memoryMiB: lots')
        .replace('template: cuda\n    cores: 4', 'template: cudaa\n    cores: 4'),
    );
    const r = await phoenix('validate', bad);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: containers\.6\.memoryMiB: .*\(got "lots"\)/);
    const bad2 = join(tmp, 'bad2.yaml');
    writeFileSync(bad2, readFileSync(SPEC, 'utf8').replace('template: cuda\n    cores: 4', 'template: cudaa\n    cores: 4'));
    const r2 = await phoenix('validate', bad2);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('containers.3.template: unknown template (got "cudaa")');
    const gone = await phoenix('validate', join(tmp, 'nope.yaml'));
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain('no such file');
  });

  it('shows the nodes of the three-node view', async () => {
    const table = await phoenix('nodes', '--view', VIEW);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^NODE\s+STATUS\s+CPU\s+MEMORY/);
    expect(table.stdout).toMatch(/gpu-a\s+up/);
    expect(table.stdout).toContain('H100 80GB HBM3');
    const json = JSON.parse((await phoenix('nodes', '--view', VIEW, '--output', 'json')).stdout) as {
      nodes: { name: string; status: string; gpus: unknown[] }[];
    };
    expect(json.nodes.map((n) => [n.name, n.status, n.gpus.length])).toEqual([
      ['cpu-c', 'up', 0],
      ['gpu-a', 'up', 2],
      ['gpu-b', 'up', 1],
    ]);
  });

  it('plans the example onto the three nodes', async () => {
    const r = await phoenix('plan', '--view', VIEW, SPEC, '--output', 'json');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { placements: { guest: string; node: string }[]; existing: { guest: string }[]; unplaced: unknown[] };
    const at = Object.fromEntries(plan.placements.map((p) => [p.guest, p.node]));
    expect(at).toMatchObject({ 'granite-embedding': 'gpu-a', ollama: 'gpu-b', db: 'cpu-c' });
    expect(plan.existing.map((e) => e.guest).sort()).toEqual(['base', 'ubuntu-cloud', 'web-1']);
    expect(plan.unplaced).toEqual([]);
    const table = await phoenix('plan', '--view', VIEW, SPEC);
    expect(table.stdout).toMatch(/granite-embedding\s+gpu-a/);
  });

  it('exits 1 and says why when a guest cannot be placed', async () => {
    const spec = join(tmp, 'huge.yaml');
    writeFileSync(
      spec,
      `${readFileSync(SPEC, 'utf8').replace('scheduling:', `  - name: huge\n    template: ubuntu-cloud\n    memoryMiB: 400000\n    gpu: { count: 2, model: L40S }\nscheduling:`)}`,
    );
    const r = await phoenix('plan', '--view', VIEW, spec);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Not placed:');
    expect(r.stdout).toMatch(/huge: no node fits \(/);
    expect(r.stderr).toContain('error: 1 guest cannot be placed: huge');
    const ex = await phoenix('explain', 'huge', '--view', VIEW, spec);
    expect(ex.code).toBe(0);
    expect(ex.stdout).toContain('huge → not placed');
    // judged with the rest of the plan in place: ollama takes 16384 MiB of gpu-b's 245760
    expect(ex.stdout).toMatch(/gpu-b\s+rejected \(memory\)\s+memory: needs 400000 MiB, 229376 MiB free/);
  });

  it('explains a placement: the chosen node and every other node with its numbers', async () => {
    const r = await phoenix('explain', 'granite-embedding', '--view', VIEW, SPEC);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^granite-embedding → gpu-a \(score [-0-9.]+; 1 of 3 nodes feasible with the rest of the plan in place\)$/);
    expect(r.stdout).toMatch(/gpu-a\s+chosen\s+score [-0-9.]+: cpu [\d.]+%→[\d.]+%, memory [\d.]+%→[\d.]+%, shared-nfs [\d.]+%→[\d.]+%, GPU 0/);
    expect(r.stdout).toMatch(/gpu-b\s+rejected \(anti-affinity\)\s+anti-affinity: group inference already has 1 guest on this node/);
    expect(r.stdout).toMatch(/cpu-c\s+rejected \(gpu\)\s+gpu: needs 1× H100 .*node has no GPUs/);
    const json = JSON.parse((await phoenix('explain', 'ollama', '--view', VIEW, SPEC, '--output', 'json')).stdout) as {
      decision: { node: string };
      nodes: { node: string; verdict: string; filter?: string }[];
    };
    expect(json.decision.node).toBe('gpu-b');
    expect(json.nodes.find((n) => n.node === 'gpu-a')).toMatchObject({ verdict: 'rejected', filter: 'anti-affinity' });
    const existing = await phoenix('explain', 'web-1', '--view', VIEW, SPEC);
    expect(existing.stdout).toContain('web-1 already exists on cpu-c (vmid 120)');
    const unknown = await phoenix('explain', 'nobody', '--view', VIEW, SPEC);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('guest: not a guest of');
  });

  it('rejects a bad view file naming the field', async () => {
    const view = join(tmp, 'view.yaml');
    writeFileSync(view, readFileSync(VIEW, 'utf8').replace('cores: 48', 'cores: -48'));
    const r = await phoenix('nodes', '--view', view);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nodes\.2\.cpu\.cores: .*\(got -48\)/);
  });

  it('imports Phoenix configs of both seed eras into specs that validate', async () => {
    for (const [dir, name] of [
      [join(SEEDS, 'phoenix'), 'e4.yaml'],
      [join(SEEDS, 'phoenix/orchestrator-era'), 'e2.yaml'],
    ] as const) {
      const out = join(tmp, name);
      const r = await phoenix('import', 'phoenix', dir, '-o', out);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^warning: /m);
      expect(r.stderr).toContain(`wrote ${out}`);
      const v = await phoenix('validate', out);
      expect(v.code, v.stderr).toBe(0);
    }
    const stdout = await phoenix('import', 'phoenix', join(SEEDS, 'phoenix'), '--node', 'pve-main');
    expect(stdout.code).toBe(0);
    expect(stdout.stdout).toContain('- name: pve-main');
    expect(stdout.stdout).not.toContain('REDACTED_PLACEHOLDER');
    const bad = await phoenix('import', 'phoenix', join(tmp, 'missing-dir'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('config-dir: no such directory');
  });

  it('imports a ProxShift inventory, and fails on a shared host when strict', async () => {
    const out = join(tmp, 'ocp.yaml');
    const inv = join(SEEDS, 'proxshift/examples/clusters.yml.template');
    const r = await phoenix('import', 'proxshift', inv, '--site', join(SEEDS, 'proxshift/examples/site-config.yaml'), '-o', out);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('ocp-node6 is listed in clusters ocp and ocp3');
    expect((await phoenix('validate', out)).code).toBe(0);
    const strict = await phoenix('import', 'proxshift', inv, '--strict-shared-hosts');
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain('error: inventory:ocp3.hosts.ocp-node6:');
  });
});
