/**
 * The agent daemon: wires config, journal, drivers, backend, gRPC, telemetry and metrics, and runs
 * the lifecycle starting → running → draining → stopped.
 *
 * Start-up: the journal marks operations a dead agent left running as interrupted; the gRPC server
 * listens but reports NOT_SERVING and refuses new operations while the pipeline's recovery repairs
 * what they left behind (PVE locks, half-made guests); then SERVING.
 *
 * Drain (SIGTERM/SIGINT): health NOT_SERVING, new operations refused with UNAVAILABLE, running ones
 * get the grace period to finish and are then cancelled (their tools' process groups are killed
 * through the AbortSignal) and recorded as interrupted; then gRPC, telemetry and NATS are closed.
 */
import { Lifecycle, loadTlsMaterial, startMetricsServer, UnavailableError, type Logger, type MetricsServer } from '@phoenix/shared';
import type { CompiledConfig } from './config/index.js';
import { createNodeDrivers, type CreatedNodeDrivers } from './drivers/index.js';
import { createAgentService } from './grpc/agent-service.js';
import type { NodeBackend } from './grpc/backend.js';
import { startGrpcServer, type AgentGrpcServer } from './grpc/server.js';
import { FencingGuard } from './journal/fencing.js';
import { LockTable } from './journal/locks.js';
import { guestLockKey, OperationManager, ShutdownCancelledError } from './journal/operations.js';
import { OperationJournal } from './journal/store.js';
import { AgentMetrics } from './metrics/registry.js';
import { GpuInventory } from './telemetry/gpus.js';
import { passedThroughDevices } from './drivers/gpu-numbering.js';
import { NatsLink } from './telemetry/nats-link.js';
import { NodeResources } from './telemetry/node-resources.js';
import { NodeInventory } from './telemetry/node-inventory.js';
import { TelemetryPublisher } from './telemetry/publisher.js';
import { AGENT_VERSION } from './version.js';

export interface BackendContext {
  log: Logger;
  /** True while an operation of this agent holds guest `vmid` (its PVE locks are live, not stale). */
  isOperationActive(vmid: number): boolean;
}

/** Builds the node backend from the drivers (the guest pipeline in production). */
export type BackendFactory = (drivers: CreatedNodeDrivers, context: BackendContext) => NodeBackend;

export interface DaemonOptions {
  config: CompiledConfig;
  logger: Logger;
  backend: BackendFactory;
}

/** Bound after the last cancelled operation is given to settle once its tools were killed. */
const CANCEL_SETTLE_MS = 10_000;
const PRUNE_EVERY_MS = 3_600_000;

export class AgentDaemon {
  readonly lifecycle = new Lifecycle();
  private readonly log: Logger;
  private metrics!: AgentMetrics;
  private operations: OperationManager | undefined;
  private grpc: AgentGrpcServer | undefined;
  private metricsServer: MetricsServer | undefined;
  private nats: NatsLink | undefined;
  private telemetry: TelemetryPublisher | undefined;
  private inventory: NodeInventory | undefined;
  private gpus: GpuInventory | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private hurry: (() => void) | undefined;

  constructor(private readonly options: DaemonOptions) {
    this.log = options.logger;
  }

  async start(): Promise<void> {
    const { config } = this.options;
    const log = this.log;
    log.info({ version: AGENT_VERSION, node: config.node, cluster: config.cluster, state: 'starting' }, 'agent starting');

    const journal = await OperationJournal.open(config.journal.dir, log.child({ component: 'journal' }));
    const fencing = await FencingGuard.open(config.journal.dir);
    const locks = new LockTable();
    const operations = new OperationManager({
      journal,
      fencing,
      locks,
      log: log.child({ component: 'operations' }),
      lockWaitMs: config.lockWaitMs,
      admit: () => {
        const state = this.lifecycle.state;
        if (state !== 'running') {
          throw new UnavailableError(`the agent is ${state} and takes no new operations; retry later or elsewhere`);
        }
      },
      observer: {
        finished: (kind, outcome, seconds) => {
          this.metrics.finished(kind, outcome, seconds);
          if (outcome !== 'replayed' && outcome !== 'rejected') {
            this.inventory?.changed();
            this.telemetry?.guestsChanged();
            void this.gpus?.refreshPassthrough();
          }
        },
      },
    });
    this.operations = operations;
    this.metrics = new AgentMetrics({ version: AGENT_VERSION, runningOperations: () => operations.runningCount });
    this.lifecycle.onChange((state) => {
      this.metrics.setState(state);
      this.grpc?.setServing(state === 'running');
      log.info({ state }, `agent ${state}`);
    });

    const drivers = createNodeDrivers({
      node: config.node,
      logger: log.child({ component: 'drivers' }),
      executor: {
        toolPaths: config.tools.paths,
        env: config.tools.env,
        timeoutMs: config.tools.timeoutMs,
        logger: log.child({ component: 'drivers' }),
        onCommand: (m) => this.metrics.commandFinished(m),
      },
      lxcConfDir: config.tools.lxcConfDir,
      hostRoot: config.tools.hostRoot,
    });
    const backend = this.options.backend(drivers, {
      log: log.child({ component: 'pipeline' }),
      isOperationActive: (vmid) => locks.holderOf(guestLockKey(vmid)) !== undefined,
    });
    const resources = new NodeResources(async () => {
      const st = await drivers.pvesh.get<{ cpuinfo?: { cpus?: number; model?: string }; memory?: { total?: number } }>(`/nodes/${config.node}/status`);
      return { cpus: st.cpuinfo?.cpus ?? 0, cpuModel: st.cpuinfo?.model ?? 'unknown', memoryTotalBytes: st.memory?.total ?? 0 };
    });
    const gpus = new GpuInventory({
      executor: drivers.executor,
      nvidia: drivers.nvidia,
      nvidiaSmiPath: config.tools.paths.nvidiaSmi,
      intervalMs: config.telemetry.gpuMs,
      log: log.child({ component: 'gpu' }),
      passedThrough: async (signal) => new Set((await passedThroughDevices(drivers.qm, signal ? { signal } : {})).keys()),
    });
    this.gpus = gpus;

    const service = createAgentService({
      node: config.node,
      cluster: config.cluster,
      version: AGENT_VERSION,
      labels: config.labels,
      backend,
      operations,
      journal,
      lifecycle: this.lifecycle,
      host: async () => {
        const [facts, sample] = await Promise.all([resources.staticFacts(), resources.sample()]);
        return {
          cpus: facts.cpus,
          cpuModel: facts.cpuModel,
          memoryTotalBytes: facts.memoryTotalBytes,
          memoryAvailableBytes: sample.memoryAvailableBytes,
        };
      },
      gpus: (signal) => gpus.current(signal),
    });
    this.grpc = await startGrpcServer({
      listen: config.listen,
      tls: loadTlsMaterial(config.tls),
      allowedRoles: config.allowedRoles,
      implementation: service,
      logger: log.child({ component: 'grpc' }),
      onCallStart: (call) => this.metrics.rpcStarted(call),
      onCallEnd: (outcome) => this.metrics.rpcFinished(outcome),
    });
    if (config.metrics.listen) {
      this.metricsServer = await startMetricsServer(this.metrics.registry, config.metrics.listen, log.child({ component: 'metrics' }));
    }

    await this.recover(journal, backend);
    await journal.prune(config.journal.retentionMs);
    this.pruneTimer = setInterval(() => {
      journal.prune(config.journal.retentionMs).catch((err: unknown) => log.warn({ err }, 'journal prune failed'));
    }, PRUNE_EVERY_MS).unref();

    await gpus.start();
    if (config.nats) {
      const nats = new NatsLink(config.nats, `phoenix-agent/${config.cluster}/${config.node}`, log.child({ component: 'nats' }), {
        status: (connected, reconnected) => this.metrics.natsStatus(connected, reconnected),
      });
      this.nats = nats;
      const inventory = new NodeInventory({
        node: config.node,
        pvesh: drivers.pvesh,
        liveGuests: (signal) => backend.listGuests(signal),
        // The storage loop reuses the guest loop's answer rather than calling again.
        reuseMs: config.telemetry.guestsMs + 1000,
      });
      this.inventory = inventory;
      this.telemetry = new TelemetryPublisher({
        cluster: config.cluster,
        node: config.node,
        version: AGENT_VERSION,
        advertise: this.advertise(),
        labels: config.labels,
        intervals: config.telemetry,
        publisher: nats,
        resources,
        gpus,
        listGuests: (signal) => inventory.listGuests(signal),
        listStorages: (signal) => inventory.listStorages(signal),
        lifecycle: this.lifecycle,
        runningOperations: () => operations.runningCount,
        observer: this.metrics,
        log: log.child({ component: 'telemetry' }),
      });
      nats.start();
      this.telemetry.start();
    } else {
      log.warn('no nats section in the config: telemetry is off');
    }

    this.lifecycle.advance('running');
  }

  /** The advertised address; a configured port 0 means the port the kernel gave the gRPC server. */
  private advertise(): string {
    const { advertise } = this.options.config;
    return advertise.endsWith(':0') && this.grpc ? `${advertise.slice(0, -2)}:${this.grpc.port}` : advertise;
  }

  /** Hands operations left interrupted by a crash or a cancelled drain to the pipeline's recovery. */
  private async recover(journal: OperationJournal, backend: NodeBackend): Promise<void> {
    const pending = journal.needingRecovery();
    for (const r of pending) {
      this.log.warn(
        { operation: r.id, key: r.key, kind: r.kind, vmid: r.vmid, startedAt: r.startedAt },
        'operation was interrupted; a retry with the same idempotency key converges',
      );
    }
    try {
      const report = await backend.recoverInterrupted(
        pending.map((r) => ({ id: r.id, key: r.key, kind: r.kind, vmid: r.vmid })),
        AbortSignal.timeout(5 * 60_000),
      );
      for (const action of report.actions) this.log.warn({ action }, 'recovery');
      for (const r of pending) await journal.put({ ...r, needsRecovery: false });
    } catch (err) {
      // The agent still serves; the next start tries again, and a retry of the key converges anyway.
      this.log.error({ err }, 'recovery of interrupted operations failed');
    }
  }

  /** Drains and stops; safe to call more than once (a second call shortens the grace period). */
  stop(reason: string): Promise<void> {
    if (this.stopping) {
      this.hurry?.();
      return this.stopping;
    }
    this.stopping = this.drain(reason);
    return this.stopping;
  }

  private async drain(reason: string): Promise<void> {
    const { config } = this.options;
    const log = this.log;
    log.info({ reason, graceMs: config.shutdownGraceMs }, 'draining');
    this.lifecycle.advance('draining');
    const operations = this.operations;
    if (operations && operations.runningCount > 0) {
      log.info({ running: operations.runningCount }, 'waiting for running operations');
      const graceOver = new Promise<void>((resolve) => {
        this.hurry = resolve;
        setTimeout(resolve, config.shutdownGraceMs).unref();
      });
      await Promise.race([operations.idle(), graceOver]);
      if (operations.runningCount > 0) {
        log.warn({ running: operations.runningCount }, 'grace period over: cancelling running operations');
        operations.abortAll(new ShutdownCancelledError('the agent is shutting down: operation cancelled at the grace deadline'));
        await Promise.race([operations.idle(), new Promise((r) => setTimeout(r, CANCEL_SETTLE_MS).unref())]);
      }
    }
    clearInterval(this.pruneTimer);
    await this.grpc?.shutdown(2_000);
    this.telemetry?.stop();
    await this.gpus?.stop().catch((err: unknown) => log.warn({ err }, 'stopping the GPU sampler failed'));
    this.lifecycle.advance('stopped');
    await this.nats?.close();
    await this.metricsServer?.close();
    log.info('agent stopped');
  }
}
