/**
 * The agent daemon as a real process against an emulated node, over mTLS on TCP: who may call it,
 * idempotent and attachable operations, the drain on SIGTERM, and crash recovery after kill -9
 * in the middle of a create and of a clone.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { agentv1, commonv1, ERROR_CODE_TRAILER, type TlsMaterial } from '@phoenix/shared';
import { AgentProcess, processTree, repoRoot } from './harness/agent-process.js';
import { createTestPki, type TestPki } from './harness/certs.js';
import { startNodes, type EmulatedNode, type EmulatedNodes } from './harness/index.js';

const run = promisify(execFile);
const TEMPLATE_FILE = 'debian-12-standard_12.7-1_amd64.tar.zst';
const TEMPLATE = `local:vztmpl/${TEMPLATE_FILE}`;
/** pct create takes 20 s on a real node: about 1.5 s here, long enough to kill the agent in the middle. */
const TIME_SCALE = 0.075;

let pki: TestPki;
let agent: AgentProcess;
let emulated: EmulatedNodes;
let node: EmulatedNode;
const tls: Record<'coordinator' | 'admin' | 'agent', TlsMaterial> = {} as never;

async function emu(tool: string, args: string[]): Promise<string> {
  const { stdout } = await run(join(node.binDir, tool), args, { env: node.env });
  return stdout;
}

/** `pct list` rows: vmid → lock ('' when unlocked). */
async function pctList(): Promise<Map<number, string>> {
  const rows = new Map<number, string>();
  for (const line of (await emu('pct', ['list'])).split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (!/^\d+$/.test(cols[0] ?? '')) continue;
    // VMID Status [Lock] Name: four columns when locked.
    rows.set(Number(cols[0]), cols.length >= 4 ? (cols[2] ?? '') : '');
  }
  return rows;
}

async function callsOf(tool: string, sub: string): Promise<number> {
  const text = await readFile(join(node.stateDir, 'calls.log'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { tool: string; argv: string[] })
    .filter((c) => c.tool === tool && c.argv[0] === sub).length;
}

const client = (who: keyof typeof tls = 'coordinator') => agent.client(tls[who]);

function unary<Res>(c: agentv1.AgentServiceClient, method: keyof agentv1.AgentServiceClient, req: unknown, deadlineMs = 15_000): Promise<Res> {
  const fn = c[method] as unknown as (r: unknown, md: Metadata, o: object, cb: (e: ServiceError | null, r: Res) => void) => void;
  return new Promise((resolve, reject) =>
    fn.call(c, req, new Metadata(), { deadline: Date.now() + deadlineMs }, (e, r) => (e ? reject(e) : resolve(r))),
  );
}

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as ServiceError);

const ctx = (key: string) => ({ idempotencyKey: key, fencingToken: 0, requester: 'test/agent-daemon' });

function lxc(vmid: number, extra: Partial<agentv1.GuestSpec> = {}): agentv1.GuestSpec {
  return agentv1.GuestSpec.fromPartial({
    vmid,
    type: commonv1.GuestType.LXC,
    hostname: `ct${vmid}`,
    source: { kind: { $case: 'osTemplate', value: TEMPLATE } },
    cores: 1,
    memoryMib: 512,
    rootDisk: { storage: 'local-zfs', sizeGib: 8 },
    unprivileged: true,
    ...extra,
  });
}

const createGuest = (key: string, vmid: number, c = client()) =>
  unary<agentv1.CreateGuestResponse>(c, 'createGuest', agentv1.CreateGuestRequest.fromPartial({ context: ctx(key), spec: lxc(vmid) }));

function collect(call: ClientReadableStream<agentv1.EnsureGuestResponse>): Promise<agentv1.OperationEvent[]> {
  const events: agentv1.OperationEvent[] = [];
  return new Promise((resolve, reject) => {
    call.on('data', (r: agentv1.EnsureGuestResponse) => events.push(r.event!));
    call.on('end', () => resolve(events));
    call.on('error', (e) => reject(Object.assign(e, { events })));
  });
}

/** Waits until the emulated guest carries `lock` (a tool is in the middle of its work). */
async function waitForLock(vmid: number, lock: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await pctList()).get(vmid) === lock) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`CT ${vmid} never showed lock ${lock}`);
}

beforeAll(async () => {
  pki = await createTestPki({ nodes: ['pve1'] });
  tls.coordinator = await pki.material(await pki.client('coordinator', 'coord-a'));
  tls.admin = await pki.material(await pki.client('admin', 'alice'));
  tls.agent = await pki.material(await pki.client('agent', 'pve9'));
  emulated = await startNodes({ nodes: [{ name: 'pve1', templates: [TEMPLATE_FILE] }], timeScale: TIME_SCALE });
  node = emulated.nodes[0]!;
  const toolEnv = Object.fromEntries(Object.entries(node.env).filter(([k]) => k.startsWith('PVE_EMU_')));
  agent = await AgentProcess.start({
    node: 'pve1',
    cluster: 'lab',
    pki,
    tools: { binDir: node.binDir, env: toolEnv },
    // Long enough for a create to finish on a loaded machine; the cancel test shortens it.
    graceSeconds: 15,
    lockWaitSeconds: 1,
  });
});

afterAll(async () => {
  await agent?.dispose();
  await pki?.dispose();
  await emulated?.teardown();
});

describe('agent daemon - start-up', () => {
  it('exits 2 for an invalid config, naming the field and the value', async () => {
    const start = async (yaml: string) => {
      const file = join(agent.dir, 'bad.yaml');
      await writeFile(file, yaml);
      return (await run(process.execPath, [join(repoRoot(), 'agent/dist/main.js'), '--config', file]).catch((e: unknown) => e)) as {
        code: number;
        stderr: string;
      };
    };
    const badListen = await start('node: pve1\ncluster: lab\nlisten: everywhere\ntls: { ca: ca.pem, cert: c.pem, key: k.pem }\n');
    expect(badListen.code).toBe(2);
    expect(badListen.stderr).toContain('listen: must be host:port (got "everywhere")');
    const missingCa = await start('node: pve1\ncluster: lab\ntls: { ca: /nonexistent/ca.pem, cert: agent.yaml, key: agent.yaml }\n');
    expect(missingCa.code).toBe(2);
    expect(missingCa.stderr).toMatch(/tls\.ca: file is not readable: ENOENT \(got "\/nonexistent\/ca\.pem"\)/);
  });
});

describe('agent daemon - mTLS', () => {
  it('refuses a client without a certificate at the TLS handshake', async () => {
    const err = await failure(unary(agent.client({ ca: tls.coordinator.ca }), 'getNodeInfo', {}));
    expect(err?.code).toBe(status.UNAVAILABLE);
  });

  it('refuses a certificate with a role that may not call the agent', async () => {
    const err = await failure(unary(client('agent'), 'listGuests', {}));
    expect(err?.code).toBe(status.PERMISSION_DENIED);
    expect(err?.metadata.get(ERROR_CODE_TRAILER)).toEqual(['PERMISSION_DENIED']);
  });

  it('serves coordinators and admins, with health SERVING', async () => {
    const info = await unary<agentv1.GetNodeInfoResponse>(client('admin'), 'getNodeInfo', {});
    expect(info).toMatchObject({ node: 'pve1', cluster: 'lab', state: commonv1.DaemonState.RUNNING, pveVersion: expect.stringMatching(/^\d+\.\d+/) });
    expect(info.cpus).toBeGreaterThan(0);
    expect(info.memoryTotalBytes).toBeGreaterThan(0);
    expect(info.storages.map((s) => s.id).sort()).toEqual(['local', 'local-zfs']);
    expect(await agent.health(tls.coordinator)).toBe('SERVING');
    expect(await agent.health(tls.coordinator, 'phoenix.agent.v1.AgentService')).toBe('SERVING');
  });
});

describe('agent daemon - operations', () => {
  it('runs a create once for the same key twice and returns the recorded result', async () => {
    const before = await callsOf('pct', 'create');
    const first = await createGuest('create-101', 101);
    const second = await createGuest('create-101', 101);
    expect(first.result).toMatchObject({ ok: true, changed: true, guest: { vmid: 101 } });
    expect(second).toEqual(first);
    expect((await callsOf('pct', 'create')) - before).toBe(1);
    const op = await unary<agentv1.GetOperationResponse>(client(), 'getOperation', { idempotencyKey: 'create-101' });
    expect(op.operation).toMatchObject({ kind: 'CreateGuest', vmid: 101, phase: agentv1.OperationPhase.SUCCEEDED });
  });

  it('attaches a second stream to a running key: one operation, the same events', async () => {
    const req = agentv1.EnsureGuestRequest.fromPartial({ context: ctx('ensure-102'), spec: lxc(102) });
    const before = await callsOf('pct', 'create');
    const first = collect(client().ensureGuest(req));
    await waitForLock(102, 'create');
    const second = collect(client('admin').ensureGuest(req));
    const [a, b] = await Promise.all([first, second]);
    expect((await callsOf('pct', 'create')) - before).toBe(1);
    const result = a.at(-1)?.kind;
    expect(result?.$case).toBe('result');
    expect(result?.$case === 'result' && result.value.ok).toBe(true);
    expect(b.map((e) => e.seq)).toEqual(a.map((e) => e.seq));
    expect(b.at(-1)).toEqual(a.at(-1));
    expect(a.some((e) => e.kind?.$case === 'step')).toBe(true);
  });

  it('refuses a second operation on a busy guest after the lock wait', async () => {
    const running = createGuest('create-103', 103);
    await waitForLock(103, 'create');
    const err = await failure(unary(client(), 'startGuest', { context: ctx('start-103'), vmid: 103 }));
    expect(err?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err?.metadata.get(ERROR_CODE_TRAILER)).toEqual(['BUSY']);
    await running;
  });
});

describe('agent daemon - drain', () => {
  it('on SIGTERM reports NOT_SERVING, refuses new work, lets the running create finish, exits 0', async () => {
    const running = createGuest('create-104', 104);
    await waitForLock(104, 'create');
    agent.signal('SIGTERM');
    await agent.waitForLog((l) => l.msg === 'agent draining');
    expect(await agent.health(tls.coordinator)).toBe('NOT_SERVING');
    const refused = await failure(createGuest('create-105', 105));
    expect(refused?.code).toBe(status.UNAVAILABLE);
    const done = await running;
    expect(done.result?.ok).toBe(true);
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    expect((await pctList()).has(105)).toBe(false);
    expect((await pctList()).get(104)).toBe('');
  });

  it('cancels what outlives the grace period, killing the tool process group, and exits 0', async () => {
    await agent.restart({ PHOENIX_AGENT_SHUTDOWN_GRACE_SECONDS: '0.3' });
    const running = failure(createGuest('create-106', 106));
    await waitForLock(106, 'create');
    const tools = processTree(agent.pid!).filter((p) => p.cmdline.includes('bin/pct '));
    expect(tools.length).toBeGreaterThan(0);
    agent.signal('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    const err = await running;
    expect([status.CANCELLED, status.UNAVAILABLE]).toContain(err?.code);
    for (const t of tools) expect(() => process.kill(t.pid, 0)).toThrow();
    await agent.restart();
    const ops = await unary<agentv1.ListOperationsResponse>(client(), 'listOperations', { onlyUnfinished: true });
    expect(ops.operations.find((o) => o.idempotencyKey === 'create-106')?.phase).toBe(agentv1.OperationPhase.INTERRUPTED);
    const retried = await createGuest('create-106', 106);
    expect(retried.result?.ok).toBe(true);
    expect((await pctList()).get(106)).toBe('');
  });
});

describe('agent daemon - crash recovery', () => {
  it('after kill -9 in the middle of a create, a retry with the same key converges to one guest', async () => {
    void failure(createGuest('create-110', 110));
    await waitForLock(110, 'create');
    await agent.kill9();
    expect((await pctList()).get(110)).toBe('create');
    await agent.restart();
    const info = await unary<agentv1.GetNodeInfoResponse>(client(), 'getNodeInfo', {});
    expect(info.interruptedOperations.map((o) => [o.idempotencyKey, o.phase])).toContainEqual(['create-110', agentv1.OperationPhase.INTERRUPTED]);
    const retried = await createGuest('create-110', 110);
    expect(retried.result).toMatchObject({ ok: true, guest: { vmid: 110 } });
    const list = await pctList();
    expect([...list.keys()].filter((v) => v === 110)).toHaveLength(1);
    expect(list.get(110)).toBe('');
    const op = await unary<agentv1.GetOperationResponse>(client(), 'getOperation', { idempotencyKey: 'create-110' });
    expect(op.operation?.phase).toBe(agentv1.OperationPhase.SUCCEEDED);
  });

  it('after kill -9 in the middle of a clone, a retry converges and no lock is left on either guest', async () => {
    await unary(client(), 'snapshotGuest', { context: ctx('snap-101'), vmid: 101, name: 'base', description: '' });
    const spec = lxc(120, { source: { kind: { $case: 'clone', value: { sourceVmid: 101, snapshot: 'base', full: true, targetStorage: '' } } } });
    const clone = () => unary<agentv1.CloneGuestResponse>(client(), 'cloneGuest', agentv1.CloneGuestRequest.fromPartial({ context: ctx('clone-120'), spec }));
    void failure(clone());
    await waitForLock(120, 'create');
    await agent.kill9();
    // What a crash mid-clone leaves: the half-made target and the source's disk lock.
    const left = await pctList();
    expect(left.get(120)).toBe('create');
    expect(left.get(101)).toBe('disk');
    await agent.restart();
    const retried = await clone();
    expect(retried.result).toMatchObject({ ok: true, guest: { vmid: 120 } });
    const list = await pctList();
    expect([...list.keys()].filter((v) => v === 120)).toHaveLength(1);
    expect(list.get(120)).toBe('');
    expect(list.get(101)).toBe('');
  });
});
