/**
 * The NodeBackend the gRPC service runs on: guest work goes to the guest pipeline, node inventory
 * (storages, datasets, versions, bridges, NVIDIA device nodes) to the drivers. This file is the
 * only place that knows both shapes.
 */
import { InvalidArgumentError, type agentv1, type commonv1 } from '@phoenix/shared';
import type { NodeDrivers } from './drivers/index.js';
import { toProtoGpu } from './telemetry/gpus.js';
import type {
  InterruptedOperation,
  MutationOptions,
  MutationResult,
  NodeBackend,
  NodeFacts,
  ProgressSink,
  RecoveryReport,
} from './grpc/backend.js';
import { setupHost, type HostIo } from './host/index.js';
import { IsoStore } from './isos/iso-store.js';
import { toLogLine, toStepProgress, type GuestPipeline, type PipelineEvent, type PipelineOptions } from './pipeline/index.js';

export interface NodeBackendOptions {
  node: string;
  drivers: NodeDrivers;
  pipeline: GuestPipeline;
  /** The node's own file system and tools, for host setup. */
  host: HostIo;
}

export function createNodeBackend(options: NodeBackendOptions): NodeBackend {
  const { drivers, pipeline, node } = options;
  const through = (o: MutationOptions): PipelineOptions => ({
    signal: o.signal,
    emit: (e: PipelineEvent) => forward(o.progress, e),
    ...(o.isOperationActive ? { isOperationActive: o.isOperationActive } : {}),
  });

  // Storage content types come from the node's storage API, as listStorages reads them.
  const isos = new IsoStore({ pvesm: drivers.pvesm, storages: (signal) => backend.listStorages(signal) });
  const backend: NodeBackend = {
    async facts(signal) {
      const [version, bridges, nvidia] = await Promise.all([
        drivers.pvesh.get<{ version?: string; release?: string }>('/version', {}, { signal }).catch(() => ({})),
        drivers.pvesh
          .get<Array<{ iface?: string }>>(`/nodes/${node}/network`, { type: 'any_bridge' }, { signal })
          .catch(() => []),
        drivers.facts.nvidia(),
      ]);
      const facts: NodeFacts = {
        pveVersion: (version as { version?: string }).version ?? '',
        bridges: bridges.map((b) => b.iface ?? '').filter((b) => b !== ''),
        nvidiaDriverVersion: nvidia.driverVersion ?? '',
        nvidiaDevices: nvidia.devices.map((d) => ({ path: d.path, major: d.major, minor: d.minor })),
      };
      return facts;
    },

    async listGpus(signal) {
      const samples = await drivers.nvidia.queryGpus({ signal });
      return samples.map((s) => toProtoGpu(s, ''));
    },

    async listStorages(signal) {
      // Numbers from pvesm; what each storage holds and whether it is shared from the node's storage API.
      const [status, config] = await Promise.all([
        drivers.pvesm.status({ signal }),
        drivers.pvesh
          .get<Array<{ storage?: string; content?: string; shared?: number }>>(`/nodes/${node}/storage`, {}, { signal })
          .catch(() => []),
      ]);
      const byId = new Map(config.map((c) => [c.storage ?? '', c]));
      return status.map(
        (s): commonv1.Storage => ({
          id: s.id,
          type: s.type,
          content: (byId.get(s.id)?.content ?? '').split(',').filter((c) => c !== ''),
          active: s.status === 'active',
          shared: byId.get(s.id)?.shared === 1,
          totalBytes: s.totalBytes,
          usedBytes: s.usedBytes,
          availableBytes: s.availableBytes,
        }),
      );
    },

    listGuests: (signal) => pipeline.listGuests({ signal }),
    getGuest: (vmid, signal) => pipeline.getGuest(vmid, { signal }),

    ensureGuest: (spec, o) => pipeline.ensure(spec, { ...through(o), dryRun: o.dryRun }).then(mutation),
    createGuest: (spec, o) => pipeline.create(spec, through(o)).then(mutation),
    cloneGuest: (spec, o) => pipeline.clone(spec, through(o)).then(mutation),
    configureGuest: (spec, o) => pipeline.configure(spec, through(o)).then(mutation),
    startGuest: (vmid, o) => pipeline.start(vmid, through(o)).then(mutation),
    stopGuest: (vmid, timeout, o) => pipeline.stop(vmid, { ...through(o), shutdownTimeoutSeconds: timeout }).then(mutation),
    deleteGuest: (vmid, flags, o) => pipeline.remove(vmid, { ...through(o), ...flags }).then(mutation),
    snapshotGuest: (vmid, name, description, o) => pipeline.snapshot(vmid, name, { ...through(o), description }).then(mutation),
    rollbackGuest: (vmid, name, start, o) => pipeline.rollback(vmid, name, { ...through(o), start }).then(mutation),
    async execGuest(vmid, command, input, o): Promise<agentv1.ExecGuestResponse> {
      const r = await pipeline.exec(vmid, command, {
        signal: o.signal,
        emit: (e) => forward(o.progress, e),
        stdin: input.stdin,
        timeoutSeconds: input.timeoutSeconds,
      });
      return { exitCode: r.exitCode, stdout: Buffer.from(r.stdout), stderr: Buffer.from(r.stderr) };
    },
    pushFile: (vmid, path, content, mode, o) => pipeline.push(vmid, path, content, { ...through(o), mode }).then(mutation),
    runFeatures: (vmid, features, o) => pipeline.runFeatures(vmid, features, through(o)).then(mutation),

    writeIsoChunk: (target, offset, data, signal) => isos.writeChunk(target, offset, data, signal),
    async commitIso(target, o) {
      const changed = await isos.commit(target, o.signal);
      o.progress.step({ step: 'iso', state: 2, changed, message: `${target.storage}:iso/${target.file}${changed ? '' : ' already there'}` });
      return { changed, changedSteps: changed ? ['iso'] : [] };
    },
    async deleteIso(storage, file, o) {
      const changed = await isos.remove(storage, file, o.signal);
      return { changed, changedSteps: changed ? ['iso'] : [] };
    },

    async ensureStorage(request, o) {
      const existing = (await drivers.pvesm.status({ signal: o.signal })).find((s) => s.id === request.id);
      const params: Record<string, string> = { ...request.options };
      if (request.content.length > 0) params['content'] = request.content.join(',');
      if (!existing) {
        if (request.type === '') throw new InvalidArgumentError('type', request.type, 'a storage type is needed to add a storage');
        await drivers.pvesm.add(request.type, request.id, params, { signal: o.signal });
        o.progress.step({ step: 'storage', state: 2, changed: true, message: `added ${request.type} storage ${request.id}` });
        return { changed: true, changedSteps: ['storage'] };
      }
      if (request.type !== '' && existing.type !== request.type) {
        throw new InvalidArgumentError('type', request.type, `storage ${request.id} exists with type ${existing.type}`);
      }
      const { content, ...rest } = params;
      const settable = { ...rest, ...(content !== undefined ? { content } : {}) };
      if (Object.keys(settable).length === 0) return { changed: false, changedSteps: [] };
      // pvesm set is idempotent; the storage config is the source of truth for what changed.
      const before = await storageConfig(drivers, request.id, o.signal);
      const differs = Object.entries(settable).some(([k, v]) => before[k] !== v);
      if (!differs) return { changed: false, changedSteps: [] };
      await drivers.pvesm.set(request.id, settable, { signal: o.signal });
      return { changed: true, changedSteps: ['storage'] };
    },

    async listDatasets(root, signal) {
      const list = await drivers.zfs.list(root === '' ? undefined : root, { recursive: true, types: ['filesystem', 'volume'] }, { signal });
      return list.map((d) => ({
        name: d.name,
        usedBytes: d.usedBytes,
        availableBytes: d.availableBytes,
        referencedBytes: d.referencedBytes,
        mountpoint: d.mountpoint,
        properties: {},
      }));
    },

    async ensureDataset(name, properties, o) {
      const keys = Object.keys(properties);
      let current: Record<string, { value: string; source: string }> | undefined;
      try {
        current = await drivers.zfs.get(name, keys.length > 0 ? keys : ['type'], { signal: o.signal });
      } catch (err) {
        if ((err as { code?: string }).code !== 'NOT_FOUND') throw err;
      }
      if (!current) {
        await drivers.zfs.create(name, properties, { signal: o.signal });
        return { changed: true, changedSteps: ['dataset'] };
      }
      const changes = Object.fromEntries(Object.entries(properties).filter(([k, v]) => current[k]?.value !== v));
      if (Object.keys(changes).length === 0) return { changed: false, changedSteps: [] };
      await drivers.zfs.set(name, changes, { signal: o.signal });
      return { changed: true, changedSteps: ['dataset'] };
    },

    async setupHost(spec, o) {
      return setupHost(spec, options.host, { signal: o.signal, progress: o.progress, dryRun: o.dryRun });
    },

    async recoverInterrupted(operations: InterruptedOperation[], signal): Promise<RecoveryReport> {
      // Also checks every guest for create/clone/disk locks that no running operation owns.
      return pipeline.recoverInterrupted(operations, { signal });
    },
  };
  return backend;
}

function mutation(r: { changed: boolean; changedSteps: string[]; guest?: commonv1.GuestSummary | undefined }): MutationResult {
  return { changed: r.changed, changedSteps: r.changedSteps, guest: r.guest };
}

function forward(progress: ProgressSink, event: PipelineEvent): void {
  const line = toLogLine(event);
  if (line) progress.log(line);
  const step = toStepProgress(event);
  if (step) progress.step(step);
}

async function storageConfig(drivers: NodeDrivers, id: string, signal: AbortSignal): Promise<Record<string, string>> {
  const raw = await drivers.pvesh.get<Record<string, unknown>>(`/storage/${id}`, {}, { signal }).catch(() => ({}));
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]));
}
