/**
 * A whole Phoenix cluster on one machine: a real nats-server (per-node users), three emulated
 * Proxmox nodes that differ (GPUs, memory, storage), an agent process per node with mTLS, and
 * coordinator processes. Used by the demo, the end-to-end tests and the apply benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { emulatorBinDir } from '../emulator/src/index.js';
import { stringify } from 'yaml';
import { startNodes, type EmulatedNodes } from '../harness/index.js';
import type { NodeOptions } from '../harness/node-options.js';
import { startSecuredNats, type SecuredNatsServer } from '../harness/nats.js';
import { createTestPki, type TestPki } from '../harness/certs.js';
import { AgentProcess, repoRoot } from '../harness/agent-process.js';
import { reapWithParent } from '../harness/reaper.js';
import { generateKeyPairSync } from 'node:crypto';

export const CLUSTER = 'demo';

const seedStorages = [
  { id: 'quickOS-lxc-disks', type: 'zfspool', pool: 'quickOS/lxc-disks', content: ['images', 'rootdir'], sparse: 1 },
  { id: 'quickOS-vm-disks', type: 'zfspool', pool: 'quickOS/vm-disks', content: ['images'], sparse: 1 },
  { id: 'fastData-shared-iso', type: 'dir', path: 'storage/fastData-shared-iso', content: ['iso', 'vztmpl'] },
  { id: 'fastData-shared-bulk-data', type: 'zfspool', pool: 'fastData/shared-bulk-data', content: ['images', 'rootdir'], sparse: 1 },
];
const seedPools = (sizeGiB: number) => [
  { name: 'quickOS', sizeBytes: sizeGiB * 1024 ** 3, datasets: ['quickOS/lxc-disks', 'quickOS/vm-disks'] },
  { name: 'fastData', sizeBytes: sizeGiB * 1024 ** 3, datasets: ['fastData/shared-bulk-data'] },
];

/** Three nodes that differ: two GPU nodes of different models and memory, one CPU-only. */
export const DEMO_NODES: (NodeOptions & { name: string; labels: Record<string, string> })[] = [
  { name: 'pve1', cpus: 64, memoryMb: 512 * 1024, gpus: 2, extraStorages: seedStorages, zpools: seedPools(4096), labels: { gpu: 'h100', zone: 'a' } },
  {
    name: 'pve2',
    cpus: 32,
    memoryMb: 384 * 1024,
    gpus: [{ name: 'NVIDIA L40S' }, { name: 'NVIDIA L40S' }] as never,
    extraStorages: seedStorages,
    zpools: seedPools(2048),
    labels: { gpu: 'l40s', zone: 'b' },
  },
  { name: 'pve3', cpus: 16, memoryMb: 64 * 1024, extraStorages: seedStorages, zpools: seedPools(1024), labels: { zone: 'c' } },
];

export interface DemoCluster {
  dir: string;
  nodes: EmulatedNodes;
  nats: SecuredNatsServer;
  pki: TestPki;
  agents: AgentProcess[];
  coordinators: Map<string, ChildProcess>;
  /** The CLI context file (admin certificate). */
  contextFile: string;
  /** Runs the phoenix CLI; resolves with its exit code and output. */
  cli(args: string[], options?: { inherit?: boolean }): Promise<{ code: number; stdout: string; stderr: string }>;
  startCoordinator(id: string): Promise<ChildProcess>;
  stopCoordinator(id: string, signal?: NodeJS.Signals): Promise<void>;
  teardown(): Promise<void>;
}

export interface DemoOptions {
  timeScale?: number;
  coordinators?: string[];
  leaseTtlMs?: number;
  log?: (line: string) => void;
}

export async function startDemoCluster(options: DemoOptions = {}): Promise<DemoCluster> {
  const log = options.log ?? (() => undefined);
  const root = repoRoot();
  const dir = await mkdtemp(join(tmpdir(), 'phoenix-demo-'));
  await mkdir(join(dir, 'nodes'), { recursive: true });
  log('starting three emulated Proxmox nodes');
  const nodes = await startNodes({ nodes: DEMO_NODES, timeScale: options.timeScale ?? 0.02, baseDir: join(dir, 'nodes') });
  for (const n of nodes.nodes) {
    // The cloud image the seed VMs start from, where the seed config keeps it.
    const iso = join(n.stateDir, 'storage', 'fastData-shared-iso', 'template', 'iso');
    mkdirSync(iso, { recursive: true });
    const localIso = join(n.stateDir, 'storage', 'local', 'template', 'iso');
    mkdirSync(localIso, { recursive: true });
    for (const d of [iso, localIso]) {
      // Sparse, with the real image's size: costs no disk space.
      writeFileSync(join(d, 'noble-server-cloudimg-amd64.img'), '');
      truncateSync(join(d, 'noble-server-cloudimg-amd64.img'), 600 * 1024 * 1024);
    }
  }
  log('issuing the cluster CA and certificates');
  const pki = await createTestPki({ nodes: nodes.nodes.map((n) => n.name) });
  log('starting nats-server with JetStream and a user per node');
  const nats = await startSecuredNats({ cluster: CLUSTER, nodes: nodes.nodes.map((n) => n.name) });
  log('starting one phoenix-agent per node (mTLS)');
  const agents = await Promise.all(
    nodes.nodes.map((n, i) =>
      AgentProcess.start({
        node: n.name,
        cluster: CLUSTER,
        pki,
        nats: { url: nats.url, credentials: nats.nodeUser(n.name) },
        tools: { binDir: n.binDir, env: n.env },
        telemetry: { node: 1, gpu: 1, guests: 1, storage: 2, heartbeat: 0.5 },
        extra: { labels: DEMO_NODES[i]!.labels },
      }),
    ),
  );
  const admin = await pki.client('admin', 'phoenix-admin');
  const context = (tls: { ca: string; cert: string; key: string }, name: string) => ({
    cluster: CLUSTER,
    nats: { url: nats.url, user: nats.coordinatorUser.user, passwordFile: nats.coordinatorUser.passwordFile },
    tls,
    name,
  });
  const contextFile = join(dir, 'context.yaml');
  await writeFile(contextFile, stringify(context(admin, 'phoenix-admin')));

  // Every coordinator gets the same secrets key, as LoadCredential= hands it out in production.
  const secretsKeyFile = join(dir, 'secrets.key');
  await writeFile(secretsKeyFile, generateKeyPairSync('x25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const coordinators = new Map<string, ChildProcess>();
  const startCoordinator = async (id: string): Promise<ChildProcess> => {
    const tls = await pki.client('coordinator', id);
    const cfgFile = join(dir, `coordinator-${id}.yaml`);
    // OpenShift installs run the emulated openshift-install, which finds the VMs on the emulated nodes.
    const openshift = { installer: join(emulatorBinDir(), 'openshift-install'), workDir: join(dir, 'openshift'), passEnv: ['PHOENIX_EMULATOR_NODES', 'PVE_EMU_TIME_SCALE', 'PHOENIX_EMU_OPENSHIFT_FAULTS'] };
    await writeFile(
      cfgFile,
      stringify({ id, context: context(tls, id), leaseTtlSeconds: (options.leaseTtlMs ?? 4000) / 1000, perNodeConcurrency: 4, heartbeatIntervalSeconds: 2, secrets: { keyFile: secretsKeyFile }, openshift }),
    );
    await mkdir(join(dir, 'logs'), { recursive: true });
    const child = reapWithParent(
      spawn(process.execPath, [join(root, 'coordinator/dist/daemon/main.js'), '--config', cfgFile], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          PHOENIX_LOG_LEVEL: process.env['PHOENIX_LOG_LEVEL'] ?? 'info',
          PHOENIX_EMULATOR_NODES: nodes.nodes.map((n) => n.stateDir).join(delimiter),
          PVE_EMU_TIME_SCALE: String(options.timeScale ?? 0.02),
        },
      }),
    );
    const logFile = join(dir, 'logs', `coordinator-${id}.log`);
    const { createWriteStream } = await import('node:fs');
    const out = createWriteStream(logFile, { flags: 'a' });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    coordinators.set(id, child);
    return child;
  };
  log('starting the coordinators');
  for (const id of options.coordinators ?? ['coord-a']) await startCoordinator(id);

  const cli = (args: string[], o: { inherit?: boolean } = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = reapWithParent(
        spawn(process.execPath, [join(root, 'coordinator/bin/phoenix.js'), ...args], {
          stdio: ['ignore', o.inherit ? 'inherit' : 'pipe', o.inherit ? 'inherit' : 'pipe'],
          env: { ...process.env, PHOENIX_CONTEXT: contextFile },
        }),
      );
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });

  const stopCoordinator = async (id: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const child = coordinators.get(id);
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
    coordinators.delete(id);
  };

  return {
    dir,
    nodes,
    nats,
    pki,
    agents,
    coordinators,
    contextFile,
    cli,
    startCoordinator,
    stopCoordinator,
    async teardown() {
      for (const id of [...coordinators.keys()]) await stopCoordinator(id, 'SIGKILL');
      await Promise.all(agents.map((a) => a.stop().catch(() => undefined)));
      await nats.dispose();
      await nodes.teardown();
      await pki.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
