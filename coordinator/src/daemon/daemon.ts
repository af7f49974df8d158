/**
 * phoenix-coordinator: keeps the cluster view, campaigns for leadership and, while leading,
 * executes apply runs. Every coordinator serves /metrics and /healthz; only the leader acts.
 *
 * Lifecycle starting → running → draining → stopped, logged and exported as a metric: running
 * once NATS, the state store and the election are up; draining on stop, when the executor stops
 * taking runs, the lease is resigned and the connections close.
 */
import { openSecretStore, serveReveals } from '../secrets/index.js';
import { CliInstaller, renderManifests } from '../openshift/index.js';
import { openshiftRecordKey, openshiftRecords } from '../state/index.js';
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { NatsConnection } from '@nats-io/transport-node';
import { Lifecycle, startMetricsServer, type DaemonState, type Logger, type MetricsServer } from '@phoenix/shared';
import { connectNats, contextTls } from '../context/index.js';
import { LeaderElection } from '../lease/index.js';
import { StateStore } from '../state/index.js';
import type { CompiledCoordinatorConfig } from './config.js';
import { RunExecutor } from './run-executor.js';
import { ViewKeeper } from './view-keeper.js';

const STATES: readonly DaemonState[] = ['starting', 'running', 'draining', 'stopped'];

export class CoordinatorDaemon {
  readonly lifecycle = new Lifecycle();
  readonly registry = new Registry();
  #nc: NatsConnection | undefined;
  #reveals: { unsubscribe(): void } | undefined;
  #election: LeaderElection | undefined;
  #executor: RunExecutor | undefined;
  #keeper: ViewKeeper | undefined;
  #metricsServer: MetricsServer | undefined;
  #stopping: Promise<void> | undefined;

  constructor(
    private readonly config: CompiledCoordinatorConfig,
    readonly logger: Logger,
  ) {
    this.lifecycle.onChange((state) => this.logger.info({ state }, `coordinator ${state}`));
  }

  async start(): Promise<void> {
    const c = this.config;
    this.logger.info({ id: c.id, cluster: c.context.cluster, state: 'starting' }, 'coordinator starting');
    const nc = await connectNats(c.context, `coordinator-${c.id}`);
    this.#nc = nc;
    const store = await StateStore.open(nc, { leaseTtlMs: c.leaseTtlMs, logger: this.logger });
    const secrets = await openSecretStore(c.secrets, store);
    if (c.secrets.keyFile !== undefined) {
      // Any coordinator holding the key may answer: revealing needs no leadership.
      this.#reveals = serveReveals(nc, c.context.cluster, secrets, async (cluster) => (await openshiftRecords(store).get(openshiftRecordKey(cluster)))?.value.credentials, this.logger);
    }
    const keeper = new ViewKeeper(nc, c.context.cluster, this.logger, c.heartbeatIntervalMs);
    this.#keeper = keeper;
    const election = new LeaderElection(store, { id: c.id, logger: this.logger });
    this.#election = election;
    const executor = new RunExecutor({
      nc,
      store,
      keeper,
      cluster: c.context.cluster,
      id: c.id,
      tls: contextTls(c.context),
      caPem: readFileSync(c.context.tls.ca, 'utf8'),
      perNode: c.perNodeConcurrency,
      token: () => election.currentToken() ?? 0,
      logger: this.logger,
      requestRetentionMs: c.requestRetentionMs,
      secrets,
      ...(c.openshift
        ? {
            openshift: {
              installer: new CliInstaller({ binary: c.openshift.installer, env: c.openshift.env }),
              render: renderManifests,
              workDir: c.openshift.workDir,
            },
          }
        : {}),
    });
    this.#executor = executor;
    this.#metrics(election, keeper);
    if (c.metricsListen) {
      this.#metricsServer = await startMetricsServer(this.registry, c.metricsListen, this.logger.child({ component: 'metrics' }), {
        health: () => ({ state: this.lifecycle.state, leader: election.isLeader(), nodes: keeper.view.nodes.length }),
      });
    }
    election.on('elected', (token: number) => {
      this.logger.info({ token }, 'leading');
      keeper.stop();
      keeper.start(store);
      executor.start().catch((err: unknown) => this.logger.error({ err }, 'following requests failed'));
    });
    election.on('lost', (reason: string) => {
      this.logger.warn({ reason }, 'leadership lost');
      executor.stop();
      keeper.stop();
      keeper.start();
    });
    keeper.start();
    await election.start();
    this.lifecycle.advance('running');
  }

  #metrics(election: LeaderElection, keeper: ViewKeeper): void {
    const registers = [this.registry];
    const lifecycle = this.lifecycle;
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'phoenix_coordinator_state',
      help: 'lifecycle state of the coordinator: 1 for the current state',
      labelNames: ['state'],
      registers,
      collect() {
        for (const s of STATES) this.set({ state: s }, lifecycle.state === s ? 1 : 0);
      },
    });
    new Gauge({ name: 'phoenix_coordinator_leader', help: '1 while this coordinator leads', registers, collect() { this.set(election.isLeader() ? 1 : 0); } });
    new Counter({ name: 'phoenix_coordinator_election_campaigns_total', help: 'campaigns for the lease', registers, collect() { this.reset(); this.inc(election.stats.campaigns); } });
    new Gauge({
      name: 'phoenix_coordinator_telemetry_age_seconds',
      help: 'age of the newest telemetry per node, worst node',
      registers,
      collect() {
        const now = Date.now();
        this.set(Math.max(0, ...[...keeper.lastSeen.values()].map((t) => (now - t) / 1000)));
      },
    });
  }

  /** Drains and stops; safe to call more than once. */
  stop(): Promise<void> {
    this.#stopping ??= this.#drain();
    return this.#stopping;
  }

  async #drain(): Promise<void> {
    this.lifecycle.advance('draining');
    this.#reveals?.unsubscribe();
    this.#executor?.stop();
    this.#keeper?.stop();
    await this.#election?.stop({ resign: true }).catch((err: unknown) => this.logger.warn({ err }, 'resigning the lease failed'));
    await this.#nc?.drain().catch(() => undefined);
    this.lifecycle.advance('stopped');
    await this.#metricsServer?.close();
  }
}

