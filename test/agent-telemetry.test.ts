/**
 * Telemetry of real agent processes over a real, secured nats-server: two emulated nodes publish
 * protobuf on their own subjects, publishing stops while NATS is down and resumes after it comes
 * back (the gRPC API keeps working meanwhile), and a node's credentials cannot publish as another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { PermissionViolationError, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { commonv1, telemetryv1, type agentv1, type TlsMaterial } from '@phoenix/shared';
import { AgentProcess, processTree } from './harness/agent-process.js';
import { createTestPki, type TestPki } from './harness/certs.js';
import { startNodes, type EmulatedNodes } from './harness/index.js';
import { startSecuredNats, type SecuredNatsServer } from './harness/nats.js';

const CLUSTER = 'lab';

interface Received {
  subject: string;
  at: number;
  data: Uint8Array;
}

let pki: TestPki;
let nats: SecuredNatsServer;
let coordinator: NatsConnection;
let sub: Subscription;
const received: Received[] = [];
const agents: Record<string, AgentProcess> = {};
let tls: TlsMaterial;
let emulated: EmulatedNodes;


/** The PVE_EMU_* settings an agent passes to its tools (PATH is the agent's own business). */
function emulatorEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('PVE_EMU_')));
}

function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const value = probe();
      if (value !== undefined) return resolve(value);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 25);
    };
    tick();
  });
}

function latest(subject: string, after = 0): Received | undefined {
  for (let i = received.length - 1; i >= 0; i--) {
    const m = received[i]!;
    if (m.at < after) return undefined;
    if (m.subject === subject) return m;
  }
  return undefined;
}

beforeAll(async () => {
  pki = await createTestPki({ nodes: ['pve1', 'pve2'] });
  tls = await pki.material(await pki.client('coordinator', 'coord-a'));
  nats = await startSecuredNats({ cluster: CLUSTER, nodes: ['pve1', 'pve2'] });
  coordinator = await nats.connectAs('coordinator');
  sub = coordinator.subscribe('phoenix.>', {
    callback: (_err, msg) => {
      received.push({ subject: msg.subject, at: Date.now(), data: msg.data });
    },
  });
  await coordinator.flush();
  // pve1 has no NVIDIA driver at all, pve2 two GPUs.
  emulated = await startNodes({ nodes: [{ name: 'pve1', gpuDriver: null }, { name: 'pve2', gpus: 2 }], timeScale: 0 });
  const start = (i: number) =>
    AgentProcess.start({
      node: emulated.nodes[i]!.name,
      cluster: CLUSTER,
      pki,
      nats: { url: nats.url, credentials: nats.nodeUser(emulated.nodes[i]!.name) },
      tools: { binDir: emulated.nodes[i]!.binDir, env: emulatorEnv(emulated.nodes[i]!.env) },
      metrics: true,
      telemetry: { node: 0.2, gpu: 0.2, guests: 0.3, storage: 0.5, heartbeat: 0.2 },
    });
  [agents['pve1'], agents['pve2']] = await Promise.all([start(0), start(1)]);
});

afterAll(async () => {
  await Promise.all(Object.values(agents).map((a) => a.dispose()));
  sub?.unsubscribe();
  await coordinator?.close();
  await nats?.dispose();
  await pki?.dispose();
  await emulated?.teardown();
});

describe('agent telemetry - NATS', () => {
  it('publishes node, gpu, guests and heartbeat protobuf for both nodes on their own subjects', async () => {
    for (const node of ['pve1', 'pve2']) {
      const nodeMsg = await waitFor(`${node} node telemetry`, () => latest(`phoenix.telemetry.${CLUSTER}.${node}.node`));
      const t = telemetryv1.NodeTelemetry.decode(nodeMsg.data);
      expect(t).toMatchObject({ cluster: CLUSTER, node });
      expect(t.cpus).toBeGreaterThan(0);
      expect(t.memoryTotalBytes).toBeGreaterThan(0);
      const storages = await waitFor(`${node} storages`, () => {
        const m = latest(`phoenix.telemetry.${CLUSTER}.${node}.node`);
        const s = m && telemetryv1.NodeTelemetry.decode(m.data).storages;
        return s && s.length > 0 ? s : undefined;
      });
      expect(storages.map((s) => s.id).sort()).toEqual(['local', 'local-zfs']);
      expect(storages.find((s) => s.id === 'local-zfs')).toMatchObject({ type: 'zfspool', active: true, content: ['images', 'rootdir'] });

      const guests = await waitFor(`${node} guests`, () => latest(`phoenix.telemetry.${CLUSTER}.${node}.guests`));
      expect(telemetryv1.GuestsTelemetry.decode(guests.data)).toMatchObject({ cluster: CLUSTER, node, guests: [] });

      const beat = await waitFor(`${node} heartbeat`, () => latest(`phoenix.health.${CLUSTER}.${node}`));
      const hb = telemetryv1.Heartbeat.decode(beat.data);
      expect(hb).toMatchObject({ node, state: commonv1.DaemonState.RUNNING, grpcAddress: `127.0.0.1:${agents[node]!.grpcPort}` });
    }
    const gpus = await waitFor('pve2 GPU sample', () => {
      const m = latest(`phoenix.telemetry.${CLUSTER}.pve2.gpu`);
      const g = m && telemetryv1.GpuTelemetry.decode(m.data).gpus;
      return g && g.length > 0 ? g : undefined;
    });
    expect(gpus.map((g) => g.index)).toEqual([0, 1]);
    expect(gpus[0]).toMatchObject({ name: expect.stringContaining('H100'), memoryTotalMib: expect.any(Number) });
    expect(gpus[0]!.uuid).not.toBe(gpus[1]!.uuid);
    const pve1Gpu = await waitFor('pve1 gpu', () => latest(`phoenix.telemetry.${CLUSTER}.pve1.gpu`));
    expect(telemetryv1.GpuTelemetry.decode(pve1Gpu.data).gpus).toEqual([]);
    // One long-lived nvidia-smi serves the whole stream (no spawn per sample).
    const samplers = processTree(agents['pve2']!.pid!).filter((p) => p.cmdline.includes('nvidia-smi'));
    expect(samplers).toHaveLength(1);
    expect(samplers[0]!.cmdline).toContain('-lms');
    const firstPid = samplers[0]!.pid;
    await new Promise((r) => setTimeout(r, 600));
    expect(processTree(agents['pve2']!.pid!).filter((p) => p.cmdline.includes('nvidia-smi')).map((p) => p.pid)).toEqual([firstPid]);
  });

  it('stops publishing while NATS is down, keeps serving gRPC, and resumes when it is back', async () => {
    await nats.stop();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 1_200));
    // Nothing can arrive while the server is gone; the agents must still answer over gRPC.
    const info = await new Promise<agentv1.GetNodeInfoResponse>((resolve, reject) =>
      agents['pve1']!.client(tls).getNodeInfo({}, new Metadata(), { deadline: Date.now() + 5_000 }, (e: ServiceError | null, r) =>
        e ? reject(e) : resolve(r),
      ),
    );
    expect(info.node).toBe('pve1');
    await nats.start();
    const upAt = Date.now();
    for (const node of ['pve1', 'pve2']) {
      const beat = await waitFor(`${node} heartbeat after restart`, () => latest(`phoenix.health.${CLUSTER}.${node}`, upAt), 15_000);
      expect(beat.at).toBeGreaterThanOrEqual(upAt);
    }
    expect(received.filter((m) => m.at > downAt + 100 && m.at < upAt)).toHaveLength(0);
    const metrics = await fetch(`http://127.0.0.1:${agents['pve1']!.metricsPort}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^phoenix_agent_nats_reconnects_total [1-9]/m);
    expect(metrics).toMatch(/^phoenix_agent_nats_connected 1$/m);
    expect(metrics).toMatch(/^phoenix_agent_telemetry_skipped_total\{kind="heartbeat",reason="disconnected"\} [1-9]/m);
    expect(metrics).toMatch(/^phoenix_agent_telemetry_messages_total\{kind="node"\} [1-9]/m);
    expect(metrics).toMatch(/^phoenix_agent_command_duration_seconds_count\{command="pvesm",subcommand="status",result="ok"\} [1-9]/m);
  });

  it("refuses a node's credentials on another node's subjects", async () => {
    const errors: unknown[] = [];
    const pve1 = await nats.connectAs('pve1');
    void (async () => {
      for await (const s of pve1.status()) if (s.type === 'error') errors.push(s.error);
    })();
    const forged = `phoenix.telemetry.${CLUSTER}.pve2.node`;
    const marker = new TextEncoder().encode('forged-by-pve1');
    const own = `phoenix.telemetry.${CLUSTER}.pve1.probe`;
    pve1.publish(forged, marker);
    pve1.publish(`phoenix.health.${CLUSTER}.pve2`, marker);
    pve1.publish(own, marker);
    await pve1.flush();
    await waitFor('own-subject probe', () => latest(own));
    await waitFor('permission violations', () => (errors.length >= 2 ? errors : undefined), 5_000);
    expect(errors[0]).toBeInstanceOf(PermissionViolationError);
    expect(String((errors[0] as Error).message)).toMatch(/publish/i);
    const forgedSeen = received.filter((m) => new TextDecoder().decode(m.data) === 'forged-by-pve1' && m.subject !== own);
    expect(forgedSeen).toHaveLength(0);
    await pve1.close();
  });

  it('announces draining and stopped on NATS, flushed before the agent exits 0', async () => {
    const since = Date.now();
    const exit = await agents['pve1']!.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    const statesSince = () =>
      received
        .filter((m) => m.at >= since && m.subject === `phoenix.health.${CLUSTER}.pve1`)
        .map((m) => telemetryv1.Heartbeat.decode(m.data).state);
    // Delivery to this subscriber can trail the agent's exit by a moment; the agent flushed before it.
    const states = await waitFor('stopped heartbeat', () => {
      const list = statesSince();
      return list.includes(commonv1.DaemonState.STOPPED) ? list : undefined;
    }, 3_000);
    expect(states).toContain(commonv1.DaemonState.DRAINING);
    expect(states.at(-1)).toBe(commonv1.DaemonState.STOPPED);
  });
});
