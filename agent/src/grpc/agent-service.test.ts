import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { credentials, Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import {
  agentv1,
  clientCredentials,
  commonv1,
  ERROR_CODE_TRAILER,
  issueCertificate,
  NotFoundError,
  targetNameOverride,
  UnavailableError,
  type TlsMaterial,
  type TlsPaths,
} from '@phoenix/shared';
import { FencingGuard } from '../journal/fencing.js';
import { LockTable } from '../journal/locks.js';
import { OperationManager } from '../journal/operations.js';
import { OperationJournal } from '../journal/store.js';
import { Lifecycle } from '@phoenix/shared';
import { createAgentService } from './agent-service.js';
import type { MutationOptions, MutationResult, NodeBackend } from './backend.js';
import { startGrpcServer, type AgentGrpcServer } from './server.js';

const log = pino({ level: 'silent' });

/** Log messages of the operation manager, so a test can wait for a second caller to attach. */
const opMessages: Array<{ msg?: string; key?: string }> = [];
const opLog = pino({ level: 'info' }, { write: (line: string) => void opMessages.push(JSON.parse(line) as { msg?: string; key?: string }) });
const attached = (key: string) =>
  vi.waitFor(() => expect(opMessages).toContainEqual(expect.objectContaining({ msg: 'attached to the running operation', key })), {
    timeout: 10_000,
  });

/** Scripted backend: guest 101 creates after `release()`, 500 throws an unexpected error. */
class FakeBackend {
  calls: string[] = [];
  /** Guests the node already has (listGuests). */
  existing = new Set<number>();
  signals: AbortSignal[] = [];
  private gates: Array<() => void> = [];
  private arrivals = new Map<string, (signal: AbortSignal) => void>();
  /** Resolves with the call's signal once `call` (e.g. `create:101`) reached the backend. */
  arrived(call: string): Promise<AbortSignal> {
    const seen = this.calls.indexOf(call);
    if (seen >= 0) return Promise.resolve(this.signals[seen]!);
    return new Promise((resolve) => this.arrivals.set(call, resolve));
  }
  release(): void {
    for (const g of this.gates.splice(0)) g();
  }
  private async mutate(name: string, vmid: number, o: MutationOptions, slow = false): Promise<MutationResult> {
    this.calls.push(`${name}:${vmid}`);
    this.signals.push(o.signal);
    this.arrivals.get(`${name}:${vmid}`)?.(o.signal);
    o.progress.step({ step: name, state: agentv1.StepState.STARTED });
    if (vmid === 500) throw new TypeError("Cannot read properties of undefined (reading 'vmid')");
    if (slow) {
      await new Promise<void>((resolve, reject) => {
        this.gates.push(resolve);
        o.signal.addEventListener('abort', () => reject(o.signal.reason));
      });
    }
    o.progress.log({ step: name, line: `${name} done` });
    return { changed: true, changedSteps: [name], guest: commonv1.GuestSummary.fromPartial({ vmid, name: `ct${vmid}` }) };
  }
  asBackend(): NodeBackend {
    const m = (name: string, slow = false) => (spec: agentv1.GuestSpec, o: MutationOptions) => this.mutate(name, spec.vmid, o, slow);
    const v = (name: string) => (vmid: number, ...rest: unknown[]) => this.mutate(name, vmid, rest[rest.length - 1] as MutationOptions);
    return {
      facts: async () => ({ pveVersion: '9.0.3', bridges: ['vmbr0'], nvidiaDriverVersion: '', nvidiaDevices: [] }),
      listGpus: async () => [],
      listStorages: async () => [],
      setupHost: (_spec, o) => this.mutate('setup-host', 0, o),
      listGuests: async () => [...this.existing].map((vmid) => commonv1.GuestSummary.fromPartial({ vmid })),
      getGuest: async (vmid) => {
        throw new NotFoundError(`CT ${vmid} does not exist`);
      },
      ensureGuest: async (spec, o) => {
        if (o.dryRun) {
          this.calls.push(`dry-run:${spec.vmid}`);
          o.progress.step({ step: 'ensure_exists', state: agentv1.StepState.SKIPPED, message: 'would create' });
          return { changed: true, changedSteps: ['ensure_exists'] };
        }
        return this.mutate('ensure', spec.vmid, o, true);
      },
      createGuest: m('create', true),
      cloneGuest: m('clone'),
      configureGuest: m('configure'),
      startGuest: v('start'),
      stopGuest: v('stop'),
      deleteGuest: v('delete'),
      snapshotGuest: v('snapshot'),
      rollbackGuest: v('rollback'),
      execGuest: async () => ({ exitCode: 0, stdout: Buffer.from('hi'), stderr: Buffer.alloc(0) }),
      pushFile: v('push'),
      runFeatures: v('features'),
      ensureStorage: async () => ({ changed: false, changedSteps: [] }),
      writeIsoChunk: async () => ({ staged: 0, present: false }),
      commitIso: (_t, o) => this.mutate('commit-iso', 0, o),
      deleteIso: (_s, _f, o) => this.mutate('delete-iso', 0, o),
      listDatasets: async () => [],
      ensureDataset: async () => ({ changed: false, changedSteps: [] }),
      recoverInterrupted: async () => ({ actions: [] }),
    };
  }
}

let dir: string;
let server: AgentGrpcServer;
let backend: FakeBackend;
let journal: OperationJournal;
let operations: OperationManager;
const tls: Record<string, TlsMaterial> = {};
const lifecycle = new Lifecycle();

async function material(p: TlsPaths): Promise<TlsMaterial> {
  return { ca: await readFile(p.ca), cert: await readFile(p.cert), key: await readFile(p.key) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-service-'));
  const pki = join(dir, 'pki');
  tls['server'] = await material(await issueCertificate({ dir: pki, role: 'agent', name: 'pve1', hosts: ['pve1', '127.0.0.1'] }));
  tls['coordinator'] = await material(await issueCertificate({ dir: pki, role: 'coordinator', name: 'coord-a' }));
  tls['agent'] = await material(await issueCertificate({ dir: pki, role: 'agent', name: 'pve2' }));
  journal = await OperationJournal.open(join(dir, 'journal'), log);
  backend = new FakeBackend();
  operations = new OperationManager({
    journal,
    fencing: await FencingGuard.open(join(dir, 'journal')),
    locks: new LockTable(),
    log: opLog,
    lockWaitMs: 150,
    admit: () => {
      if (lifecycle.state !== 'running') throw new UnavailableError(`agent is ${lifecycle.state}`);
    },
  });
  server = await startGrpcServer({
    listen: { host: '127.0.0.1', port: 0 },
    tls: tls['server']!,
    allowedRoles: ['coordinator', 'admin'],
    logger: log,
    implementation: createAgentService({
      node: 'pve1',
      cluster: 'lab',
      version: '0.1.0',
      labels: { zone: 'a' },
      backend: backend.asBackend(),
      operations,
      journal,
      lifecycle,
      host: async () => ({ cpus: 8, cpuModel: 'EPYC', memoryTotalBytes: 64 << 30, memoryAvailableBytes: 32 << 30 }),
      gpus: async () => [],
    }),
  });
  lifecycle.advance('running');
});

afterAll(async () => {
  await server.shutdown(100);
  await rm(dir, { recursive: true, force: true });
});

function client(who: string | undefined): agentv1.AgentServiceClient {
  const creds = who === undefined ? credentials.createSsl(tls['server']!.ca) : clientCredentials(tls[who]!);
  return new agentv1.AgentServiceClient(`127.0.0.1:${server.port}`, creds, targetNameOverride('pve1'));
}

function unary<Req, Res>(c: agentv1.AgentServiceClient, method: string, req: Req): Promise<Res> {
  const fn = (c as unknown as Record<string, (r: Req, md: Metadata, o: object, cb: (e: ServiceError | null, r: Res) => void) => void>)[method]!;
  return new Promise((resolve, reject) => fn.call(c, req, new Metadata(), { deadline: Date.now() + 5_000 }, (e, r) => (e ? reject(e) : resolve(r))));
}

const ctx = (key: string, fencingToken = 0) => ({ idempotencyKey: key, fencingToken, requester: 'test' });
const createReq = (key: string, vmid: number, fencingToken = 0) =>
  agentv1.CreateGuestRequest.fromPartial({ context: ctx(key, fencingToken), spec: { vmid, type: commonv1.GuestType.LXC } });

function collect(call: ClientReadableStream<agentv1.EnsureGuestResponse>): Promise<agentv1.OperationEvent[]> {
  const events: agentv1.OperationEvent[] = [];
  return new Promise((resolve, reject) => {
    call.on('data', (r: agentv1.EnsureGuestResponse) => events.push(r.event!));
    call.on('end', () => resolve(events));
    call.on('error', reject);
  });
}

describe('agent service - mTLS and roles', () => {
  it('refuses a client without a certificate at the handshake', async () => {
    const before = backend.calls.length;
    const err = (await unary(client(undefined), 'getNodeInfo', {}).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(backend.calls.length).toBe(before);
  });

  it('refuses a certificate of another role with PERMISSION_DENIED', async () => {
    const err = (await unary(client('agent'), 'createGuest', createReq('k-role', 130)).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(err.metadata.get(ERROR_CODE_TRAILER)).toEqual(['PERMISSION_DENIED']);
    expect(backend.calls).not.toContain('create:130');
  });

  it('answers GetNodeInfo for an allowed role', async () => {
    const info = await unary<object, agentv1.GetNodeInfoResponse>(client('coordinator'), 'getNodeInfo', {});
    expect(info).toMatchObject({ node: 'pve1', cluster: 'lab', pveVersion: '9.0.3', state: commonv1.DaemonState.RUNNING, labels: { zone: 'a' } });
  });
});

describe('agent service - operations', () => {
  it('runs a create once for two calls with the same key and returns the same result', async () => {
    const c = client('coordinator');
    const a = unary<agentv1.CreateGuestRequest, agentv1.CreateGuestResponse>(c, 'createGuest', createReq('k-create', 101));
    await backend.arrived('create:101');
    const b = unary<agentv1.CreateGuestRequest, agentv1.CreateGuestResponse>(c, 'createGuest', createReq('k-create', 101));
    await attached('k-create');
    backend.release();
    const [ra, rb] = await Promise.all([a, b]);
    const again = await unary<agentv1.CreateGuestRequest, agentv1.CreateGuestResponse>(c, 'createGuest', createReq('k-create', 101));
    expect(backend.calls.filter((x) => x === 'create:101')).toHaveLength(1);
    expect(ra.result).toMatchObject({ ok: true, changed: true, changedSteps: ['create'], guest: { vmid: 101 } });
    expect(rb).toEqual(ra);
    expect(again).toEqual(ra);
    const op = await unary<agentv1.GetOperationRequest, agentv1.GetOperationResponse>(c, 'getOperation', { idempotencyKey: 'k-create' });
    expect(op.operation).toMatchObject({ kind: 'CreateGuest', vmid: 101, phase: agentv1.OperationPhase.SUCCEEDED, requester: 'test' });
  });

  it('refuses a second operation on a busy guest with RESOURCE_EXHAUSTED (BUSY)', async () => {
    const c = client('coordinator');
    const first = unary(c, 'createGuest', createReq('k-busy-1', 102));
    await backend.arrived('create:102');
    const err = (await unary(c, 'startGuest', { context: ctx('k-busy-2'), vmid: 102 }).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.metadata.get(ERROR_CODE_TRAILER)).toEqual(['BUSY']);
    backend.release();
    await first;
  });

  it('an EnsureGuest of an existing clone leaves its source free; one that still clones holds it', async () => {
    const c = client('coordinator');
    const cloneOf120 = (vmid: number) => ({ vmid, type: commonv1.GuestType.LXC, source: { kind: { $case: 'clone' as const, value: { sourceVmid: 120 } } } });
    const ensure = (key: string, vmid: number) => collect(c.ensureGuest(agentv1.EnsureGuestRequest.fromPartial({ context: ctx(key), spec: cloneOf120(vmid) })));
    const clone = (key: string, vmid: number) =>
      unary<agentv1.CloneGuestRequest, agentv1.CloneGuestResponse>(c, 'cloneGuest', agentv1.CloneGuestRequest.fromPartial({ context: ctx(key), spec: cloneOf120(vmid) }));
    backend.existing.add(140);
    const converging = ensure('k-src-ensure-140', 140);
    await backend.arrived('ensure:140');
    expect((await clone('k-src-clone-141', 141)).result).toMatchObject({ ok: true, changedSteps: ['clone'] });
    // 142 does not exist yet, so its EnsureGuest clones and holds 120 meanwhile: a clone beside it gives up.
    const cloning = ensure('k-src-ensure-142', 142);
    await backend.arrived('ensure:142');
    const err = (await clone('k-src-clone-143', 143).catch((e: unknown) => e)) as ServiceError;
    expect(err.metadata.get(ERROR_CODE_TRAILER)).toEqual(['BUSY']);
    expect(backend.calls).not.toContain('clone:143');
    backend.release();
    await Promise.all([converging, cloning]);
  });

  it('streams EnsureGuest events to an attached second stream as well', async () => {
    const c = client('coordinator');
    const req = agentv1.EnsureGuestRequest.fromPartial({ context: ctx('k-ensure'), spec: { vmid: 103 } });
    const a = collect(c.ensureGuest(req));
    await backend.arrived('ensure:103');
    const b = collect(c.ensureGuest(req));
    await attached('k-ensure');
    backend.release();
    const [ea, eb] = await Promise.all([a, b]);
    expect(backend.calls.filter((x) => x === 'ensure:103')).toHaveLength(1);
    expect(ea.map((e) => e.kind?.$case)).toEqual(['step', 'log', 'result']);
    expect(eb).toEqual(ea);
    const replay = await collect(c.ensureGuest(req));
    expect(replay.map((e) => e.kind?.$case)).toEqual(['result']);
    expect(replay[0]?.kind).toEqual(ea[2]?.kind);
  });

  it('cancels the backend work when the only stream is cancelled', async () => {
    const c = client('coordinator');
    const call = c.ensureGuest(agentv1.EnsureGuestRequest.fromPartial({ context: ctx('k-cancel'), spec: { vmid: 104 } }));
    call.on('error', () => undefined);
    call.on('data', () => undefined);
    const signal = await backend.arrived('ensure:104');
    expect(signal.aborted).toBe(false);
    const aborted = new Promise((r) => signal.addEventListener('abort', r, { once: true }));
    call.cancel();
    await aborted;
    await operations.idle();
    expect(signal.aborted).toBe(true);
    expect(journal.get('k-cancel')).toMatchObject({ phase: 'failed', result: { errorCode: 'CANCELLED' } });
  });

  it('dry-runs without a key, a journal entry or a lock', async () => {
    const c = client('coordinator');
    const events = await collect(c.ensureGuest(agentv1.EnsureGuestRequest.fromPartial({ dryRun: true, spec: { vmid: 105 } })));
    expect(events.map((e) => e.kind?.$case)).toEqual(['step', 'result']);
    expect(backend.calls).toContain('dry-run:105');
    expect(journal.list().some((r) => r.vmid === 105)).toBe(false);
  });

  it('refuses a stale fencing token with FAILED_PRECONDITION (STALE_LEADER)', async () => {
    const c = client('coordinator');
    await unary(c, 'startGuest', { context: ctx('k-fence-1', 42), vmid: 106 });
    const err = (await unary(c, 'startGuest', { context: ctx('k-fence-2', 41), vmid: 106 }).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.metadata.get(ERROR_CODE_TRAILER)).toEqual(['STALE_LEADER']);
  });

  it('answers an unexpected backend error with INTERNAL and keeps serving', async () => {
    const c = client('coordinator');
    const err = (await unary(c, 'startGuest', { context: ctx('k-bug'), vmid: 500 }).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).not.toMatch(/Cannot read/);
    const notFound = (await unary(c, 'getGuest', { vmid: 107 }).catch((e: unknown) => e)) as ServiceError;
    expect(notFound.code).toBe(status.NOT_FOUND);
  });

  it('validates input before anything runs', async () => {
    const c = client('coordinator');
    const err = (await unary(c, 'startGuest', { context: ctx('k-bad'), vmid: 42 }).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^vmid: VMID must be at least 100 \(got 42\)/);
    const noKey = (await unary(c, 'startGuest', { context: ctx(''), vmid: 108 }).catch((e: unknown) => e)) as ServiceError;
    expect(noKey.code).toBe(status.INVALID_ARGUMENT);
    expect(backend.calls).not.toContain('start:108');
  });
});
