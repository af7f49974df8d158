/**
 * `phoenix.agent.v1.AgentService`: async handlers over the node backend. Reads go straight to the
 * backend; every mutating call runs through the OperationManager (idempotency key, journal, guest
 * lock, fencing, drain). The adapter in @phoenix/shared turns what they throw into statuses.
 */
import {
  agentv1,
  InvalidArgumentError,
  NotFoundError,
  parseOrThrow,
  vmidSchema,
  type AsyncServiceImplementation,
  type CallContext,
  type commonv1,
  type Identity,
  type StreamSink,
} from '@phoenix/shared';
import type { OperationJournal, OperationRecord } from '../journal/store.js';
import { guestLockKey, type OperationHandle, type OperationManager, type OperationSpec, type WorkOutcome } from '../journal/operations.js';
import type { Lifecycle } from '@phoenix/shared';
import type { MutationOptions, MutationResult, NodeBackend, ProgressSink } from './backend.js';
import { checkIsoName, checkIsoTarget } from '../isos/iso-store.js';

export interface HostSummary {
  cpus: number;
  cpuModel: string;
  memoryTotalBytes: number;
  memoryAvailableBytes: number;
}

export interface AgentServiceDeps {
  node: string;
  cluster: string;
  version: string;
  labels: Record<string, string>;
  backend: NodeBackend;
  operations: OperationManager;
  journal: OperationJournal;
  lifecycle: Lifecycle;
  host(): Promise<HostSummary>;
  /** Latest GPU sample (from the long-lived sampler when it runs). */
  gpus(signal: AbortSignal): Promise<commonv1.Gpu[]>;
}

type Ctx = CallContext<Identity>;
export type AgentServiceImplementation = AsyncServiceImplementation<typeof agentv1.AgentServiceService, Identity>;

export function createAgentService(deps: AgentServiceDeps): AgentServiceImplementation {
  const { backend, operations } = deps;

  /** A unary mutation whose response is `{ result }`. */
  /** A unary operation through the journal: keyed, locked, replayable with its own response type. */
  function unary<Req extends { context: commonv1.OperationContext | undefined }, Res>(
    kind: string,
    request: Req,
    ctx: Ctx,
    target: { vmid: number; lockKeys: string[] },
    codecs: { request: { toJSON(message: Req): unknown }; response: { toJSON(value: Res): unknown; fromJSON(value: unknown): Res } },
    work: (op: OperationHandle) => Promise<WorkOutcome<Res>>,
  ): Promise<Res> {
    const spec: OperationSpec<Res> = {
      kind,
      context: request.context,
      vmid: target.vmid,
      lockKeys: target.lockKeys,
      request: codecs.request.toJSON({ ...request, context: undefined }),
      caller: callerName(ctx),
      responseCodec: codecs.response,
      work,
    };
    return operations.runUnary(spec, ctx.signal);
  }

  /**
   * EnsureGuest clones only when the guest is missing; a guest that exists is converged without its
   * source, so the source stays free for its other clones (which would otherwise wait behind this
   * guest's whole pipeline). Should the guest vanish after this check, Proxmox's own lock on the source
   * still guards the copy.
   */
  async function ensureTarget(spec: agentv1.GuestSpec, signal: AbortSignal): Promise<{ vmid: number; lockKeys: string[] }> {
    if (spec.source?.kind?.$case !== 'clone') return guestTarget(spec);
    const exists = (await backend.listGuests(signal)).some((g) => g.vmid === spec.vmid);
    return exists ? single(spec.vmid) : guestTarget(spec);
  }

  function mutation<Req extends { context: commonv1.OperationContext | undefined }>(
    kind: string,
    request: Req,
    ctx: Ctx,
    target: { vmid: number; lockKeys: string[] },
    encode: { toJSON(message: Req): unknown },
    run: (op: OperationHandle) => Promise<MutationResult>,
  ): Promise<{ result: agentv1.OperationResult | undefined }> {
    return unary(kind, request, ctx, target, { request: encode, response: resultResponseCodec }, async (op) => {
      const out = await run(op);
      return { result: resultFields(out), respond: (result) => ({ result }) };
    });
  }

  /** A streaming mutation: every event of the operation goes to the sink, the result last. */
  async function streamedMutation<Req extends { context: commonv1.OperationContext | undefined }>(
    kind: string,
    request: Req,
    ctx: Ctx,
    sink: StreamSink<{ event: agentv1.OperationEvent | undefined }>,
    target: { vmid: number; lockKeys: string[] },
    encode: { toJSON(message: Req): unknown },
    run: (op: OperationHandle) => Promise<MutationResult>,
  ): Promise<void> {
    await operations.runStream(
      {
        kind,
        context: request.context,
        vmid: target.vmid,
        lockKeys: target.lockKeys,
        request: encode.toJSON({ ...request, context: undefined }),
        caller: callerName(ctx),
        work: async (op): Promise<WorkOutcome<never>> => ({ result: resultFields(await run(op)) }),
      },
      ctx.signal,
      (event) => sink.write({ event }),
    );
  }

  return {
    async getNodeInfo(_req, ctx) {
      const [host, facts, storages, gpus] = await Promise.all([
        deps.host(),
        backend.facts(ctx.signal),
        backend.listStorages(ctx.signal),
        deps.gpus(ctx.signal),
      ]);
      return agentv1.GetNodeInfoResponse.fromPartial({
        node: deps.node,
        cluster: deps.cluster,
        agentVersion: deps.version,
        pveVersion: facts.pveVersion,
        state: deps.lifecycle.proto,
        cpus: host.cpus,
        cpuModel: host.cpuModel,
        memoryTotalBytes: host.memoryTotalBytes,
        memoryAvailableBytes: host.memoryAvailableBytes,
        storages,
        bridges: facts.bridges,
        gpus,
        nvidiaDriverVersion: facts.nvidiaDriverVersion,
        nvidiaDevices: facts.nvidiaDevices,
        labels: deps.labels,
        interruptedOperations: deps.journal
          .list()
          .filter((r) => r.phase === 'interrupted')
          .map(toProtoOperation),
      });
    },

    async listGpus(_req, ctx) {
      return { gpus: await deps.gpus(ctx.signal) };
    },

    async listGuests(_req, ctx) {
      return { guests: await backend.listGuests(ctx.signal) };
    },

    async getGuest(req, ctx) {
      return backend.getGuest(vmidOf(req.vmid), ctx.signal);
    },

    async ensureGuest(req, ctx, sink) {
      const spec = specOf(req.spec);
      if (req.dryRun) {
        await dryRun(spec, ctx, sink, backend);
        return;
      }
      await streamedMutation('EnsureGuest', req, ctx, sink, await ensureTarget(spec, ctx.signal), agentv1.EnsureGuestRequest, (op) =>
        backend.ensureGuest(spec, { ...mutationOptions(op), dryRun: false }),
      );
    },

    async createGuest(req, ctx) {
      const spec = specOf(req.spec);
      return mutation('CreateGuest', req, ctx, guestTarget(spec), agentv1.CreateGuestRequest, (op) =>
        backend.createGuest(spec, mutationOptions(op)),
      );
    },

    async cloneGuest(req, ctx) {
      const spec = specOf(req.spec);
      if (spec.source?.kind?.$case !== 'clone') {
        throw new InvalidArgumentError('spec.source', spec.source ?? null, 'CloneGuest needs a clone source');
      }
      return mutation('CloneGuest', req, ctx, guestTarget(spec), agentv1.CloneGuestRequest, (op) =>
        backend.cloneGuest(spec, mutationOptions(op)),
      );
    },

    async configureGuest(req, ctx) {
      const spec = specOf(req.spec);
      return mutation('ConfigureGuest', req, ctx, { vmid: spec.vmid, lockKeys: [guestLockKey(spec.vmid)] }, agentv1.ConfigureGuestRequest, (op) =>
        backend.configureGuest(spec, mutationOptions(op)),
      );
    },

    async startGuest(req, ctx) {
      const vmid = vmidOf(req.vmid);
      return mutation('StartGuest', req, ctx, single(vmid), agentv1.StartGuestRequest, (op) =>
        backend.startGuest(vmid, mutationOptions(op)),
      );
    },

    async stopGuest(req, ctx) {
      const vmid = vmidOf(req.vmid);
      return mutation('StopGuest', req, ctx, single(vmid), agentv1.StopGuestRequest, (op) =>
        backend.stopGuest(vmid, req.shutdownTimeoutSeconds, mutationOptions(op)),
      );
    },

    async deleteGuest(req, ctx) {
      const vmid = vmidOf(req.vmid);
      return mutation('DeleteGuest', req, ctx, single(vmid), agentv1.DeleteGuestRequest, (op) =>
        backend.deleteGuest(vmid, { force: req.force, purge: req.purge }, mutationOptions(op)),
      );
    },

    async snapshotGuest(req, ctx) {
      const vmid = vmidOf(req.vmid);
      return mutation('SnapshotGuest', req, ctx, single(vmid), agentv1.SnapshotGuestRequest, (op) =>
        backend.snapshotGuest(vmid, req.name, req.description, mutationOptions(op)),
      );
    },

    async rollbackGuest(req, ctx) {
      const vmid = vmidOf(req.vmid);
      return mutation('RollbackGuest', req, ctx, single(vmid), agentv1.RollbackGuestRequest, (op) =>
        backend.rollbackGuest(vmid, req.name, req.start, mutationOptions(op)),
      );
    },

    async execGuest(req, ctx) {
      const vmid = vmidOf(req.vmid);
      if (req.command.length === 0) throw new InvalidArgumentError('command', req.command, 'must name a program');
      return unary('ExecGuest', req, ctx, single(vmid), { request: agentv1.ExecGuestRequest, response: agentv1.ExecGuestResponse }, async (op) => {
        const response = await backend.execGuest(vmid, req.command, { stdin: req.stdin, timeoutSeconds: req.timeoutSeconds }, mutationOptions(op));
        return { result: { changed: true, changedSteps: ['exec'] }, respond: () => response };
      });
    },

    async pushFile(req, ctx) {
      const vmid = vmidOf(req.vmid);
      if (!req.path.startsWith('/')) throw new InvalidArgumentError('path', req.path, 'must be an absolute path in the guest');
      if (req.mode !== '' && !/^0?[0-7]{3,4}$/.test(req.mode)) throw new InvalidArgumentError('mode', req.mode, 'must be octal, e.g. "0644"');
      return unary('PushFile', req, ctx, single(vmid), { request: agentv1.PushFileRequest, response: agentv1.PushFileResponse }, async (op) => {
        const out = await backend.pushFile(vmid, req.path, req.content, req.mode, mutationOptions(op));
        return { result: resultFields(out), respond: () => ({}) };
      });
    },

    async runFeatures(req, ctx, sink) {
      const vmid = vmidOf(req.vmid);
      await streamedMutation('RunFeatures', req, ctx, sink, single(vmid), agentv1.RunFeaturesRequest, (op) =>
        backend.runFeatures(vmid, req.features, mutationOptions(op)),
      );
    },

    async writeIsoChunk(req, ctx) {
      const target = checkIsoTarget(req.target);
      return backend.writeIsoChunk(target, req.offset, req.data, ctx.signal);
    },

    async commitIso(req, ctx) {
      const target = checkIsoTarget(req.target);
      return mutation('CommitIso', req, ctx, { vmid: 0, lockKeys: [`iso:${target.storage}:${target.file}`] }, agentv1.CommitIsoRequest, (op) =>
        backend.commitIso(target, mutationOptions(op)),
      );
    },

    async deleteIso(req, ctx) {
      checkIsoName(req.storage, req.file);
      return mutation('DeleteIso', req, ctx, { vmid: 0, lockKeys: [`iso:${req.storage}:${req.file}`] }, agentv1.DeleteIsoRequest, (op) =>
        backend.deleteIso(req.storage, req.file, mutationOptions(op)),
      );
    },

    async listStorages(_req, ctx) {
      return { storages: await backend.listStorages(ctx.signal) };
    },

    async ensureStorage(req, ctx) {
      if (req.id === '') throw new InvalidArgumentError('id', req.id, 'a storage id is required');
      const { context: _context, ...rest } = req;
      return mutation('EnsureStorage', req, ctx, { vmid: 0, lockKeys: [`storage:${req.id}`] }, agentv1.EnsureStorageRequest, (op) =>
        backend.ensureStorage(rest, mutationOptions(op)),
      );
    },

    async listDatasets(req, ctx) {
      return { datasets: await backend.listDatasets(req.root, ctx.signal) };
    },

    async ensureDataset(req, ctx) {
      if (req.name === '') throw new InvalidArgumentError('name', req.name, 'a dataset name is required');
      return mutation('EnsureDataset', req, ctx, { vmid: 0, lockKeys: [`dataset:${req.name}`] }, agentv1.EnsureDatasetRequest, (op) =>
        backend.ensureDataset(req.name, req.properties, mutationOptions(op)),
      );
    },

    async setupHost(req, ctx, sink) {
      if (!req.spec) throw new InvalidArgumentError('spec', null, 'a host spec is required');
      const spec = req.spec;
      if (req.dryRun) {
        await streamDirect(ctx, sink, (progress) => backend.setupHost(spec, { signal: ctx.signal, progress, dryRun: true }));
        return;
      }
      // One host setup at a time on a node: it edits shared files and pools.
      await streamedMutation('SetupHost', req, ctx, sink, { vmid: 0, lockKeys: ['host:setup'] }, agentv1.SetupHostRequest, (op) =>
        backend.setupHost(spec, { signal: op.signal, progress: op, dryRun: false }),
      );
    },

    async getOperation(req) {
      const record = deps.journal.get(req.idempotencyKey);
      if (!record) throw new NotFoundError(`no operation with idempotency key ${JSON.stringify(req.idempotencyKey)}`);
      return { operation: toProtoOperation(record) };
    },

    async listOperations(req) {
      return { operations: deps.journal.list({ onlyUnfinished: req.onlyUnfinished }).map(toProtoOperation) };
    },
  };
}

/** Every mutation response without a payload of its own is `{ result }` (field 1): one JSON codec serves them all. */
const resultResponseCodec = {
  toJSON: (value: { result: agentv1.OperationResult | undefined }): unknown => agentv1.CreateGuestResponse.toJSON(value),
  fromJSON: (value: unknown): { result: agentv1.OperationResult | undefined } => agentv1.CreateGuestResponse.fromJSON(value),
};

/** Streams a dry run's planned steps; nothing is journaled or locked because nothing changes. */
async function dryRun(
  spec: agentv1.GuestSpec,
  ctx: Ctx,
  sink: StreamSink<{ event: agentv1.OperationEvent | undefined }>,
  backend: NodeBackend,
): Promise<void> {
  await streamDirect(ctx, sink, (progress) => backend.ensureGuest(spec, { signal: ctx.signal, dryRun: true, progress }));
}

/**
 * Runs work that changes nothing outside the journal and streams its events, the result last. Events
 * gathered before a failure are still sent before the error ends the stream.
 */
async function streamDirect(
  ctx: Ctx,
  sink: StreamSink<{ event: agentv1.OperationEvent | undefined }>,
  work: (progress: ProgressSink) => Promise<MutationResult>,
): Promise<void> {
  const events: agentv1.OperationEvent['kind'][] = [];
  const progress: ProgressSink = {
    step: (p) => events.push({ $case: 'step', value: agentv1.StepProgress.fromPartial(p) }),
    log: (l) => events.push({ $case: 'log', value: agentv1.LogLine.fromPartial(l) }),
  };
  let seq = 0;
  const flush = async (): Promise<void> => {
    for (const kind of events.splice(0)) await sink.write({ event: { operationId: '', seq: ++seq, time: new Date(), kind } });
  };
  let out: MutationResult;
  try {
    out = await work(progress);
  } catch (err) {
    await flush();
    throw err;
  }
  events.push({ $case: 'result', value: agentv1.OperationResult.fromPartial({ ok: true, ...resultFields(out) }) });
  await flush();
}

function resultFields(out: MutationResult): WorkOutcome<never>['result'] {
  return { changed: out.changed, changedSteps: out.changedSteps, guest: out.guest };
}

function mutationOptions(op: OperationHandle): MutationOptions {
  return { signal: op.signal, progress: op, isOperationActive: (vmid) => op.isOperationActive(vmid) };
}

function callerName(ctx: Ctx): string {
  return `${ctx.identity.role}/${ctx.identity.name}`;
}

function vmidOf(value: number, field = 'vmid'): number {
  return parseOrThrow(vmidSchema, value, field);
}

function specOf(spec: agentv1.GuestSpec | undefined): agentv1.GuestSpec {
  if (!spec) throw new InvalidArgumentError('spec', null, 'a guest spec is required');
  vmidOf(spec.vmid, 'spec.vmid');
  return spec;
}


function single(vmid: number): { vmid: number; lockKeys: string[] } {
  return { vmid, lockKeys: [guestLockKey(vmid)] };
}

/** The guest's lock, plus its clone source's: Proxmox holds a disk lock on the source for the whole copy. */
function guestTarget(spec: agentv1.GuestSpec): { vmid: number; lockKeys: string[] } {
  const keys = [guestLockKey(spec.vmid)];
  const source = spec.source?.kind;
  if (source?.$case === 'clone') keys.push(guestLockKey(vmidOf(source.value.sourceVmid, 'spec.source.clone.source_vmid')));
  return { vmid: spec.vmid, lockKeys: keys };
}

const PHASES: Record<OperationRecord['phase'], agentv1.OperationPhase> = {
  running: agentv1.OperationPhase.RUNNING,
  succeeded: agentv1.OperationPhase.SUCCEEDED,
  failed: agentv1.OperationPhase.FAILED,
  interrupted: agentv1.OperationPhase.INTERRUPTED,
};

export function toProtoOperation(record: OperationRecord): agentv1.Operation {
  return {
    id: record.id,
    idempotencyKey: record.key,
    kind: record.kind,
    vmid: record.vmid,
    phase: PHASES[record.phase],
    startedAt: new Date(record.startedAt),
    finishedAt: record.finishedAt ? new Date(record.finishedAt) : undefined,
    result: record.result === undefined ? undefined : agentv1.OperationResult.fromJSON(record.result),
    requester: record.requester,
  };
}
