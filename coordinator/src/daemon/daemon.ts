/**
 * phoenix-coordinator: keeps the cluster view, campaigns for leadership and, while leading,
 * executes apply runs. Every coordinator serves /metrics and /healthz; only the leader acts.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { Registry, Gauge, Counter, collectDefaultMetrics } from 'prom-client';
import type { NatsConnection } from '@nats-io/transport-node';
import { createLogger, type Logger } from '@phoenix/shared';
import { connectNats, contextTls } from '../cluster/context.js';
import { LeaderElection } from '../lease/index.js';
import { StateStore } from '../state/index.js';
import type { CoordinatorConfig } from './config.js';
import { RunExecutor } from './run-executor.js';
import { ViewKeeper } from './view-keeper.js';

export class CoordinatorDaemon {
  readonly logger: Logger;
  #nc: NatsConnection | undefined;
  #election: LeaderElection | undefined;
  #executor: RunExecutor | undefined;
  #keeper: ViewKeeper | undefined;
  #http: Server | undefined;
  readonly #registry = new Registry();

  constructor(private readonly config: CoordinatorConfig) {
    this.logger = createLogger({ service: 'phoenix-coordinator', node: config.id });
  }

  async start(): Promise<void> {
    const c = this.config;
    const nc = await connectNats(c.context, `coordinator-${c.id}`);
    this.#nc = nc;
    const store = await StateStore.open(nc, { leaseTtlMs: c.leaseTtlMs, logger: this.logger });
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
    });
    this.#executor = executor;
    this.#metrics(election, keeper);
    election.on('elected', (token: number) => {
      this.logger.info({ token }, 'leading');
      keeper.stop();
      keeper.start(store);
      executor.start();
    });
    election.on('lost', (reason: string) => {
      this.logger.warn({ reason }, 'leadership lost');
      executor.stop();
      keeper.stop();
      keeper.start();
    });
    keeper.start();
    await election.start();
    this.logger.info({ id: c.id }, 'coordinator running');
  }

  #metrics(election: LeaderElection, keeper: ViewKeeper): void {
    collectDefaultMetrics({ register: this.#registry });
    new Gauge({ name: 'phoenix_coordinator_leader', help: '1 while this coordinator leads', registers: [this.#registry], collect() { this.set(election.isLeader() ? 1 : 0); } });
    new Counter({ name: 'phoenix_coordinator_election_campaigns_total', help: 'campaigns for the lease', registers: [this.#registry], collect() { this.reset(); this.inc(election.stats.campaigns); } });
    new Gauge({
      name: 'phoenix_coordinator_telemetry_age_seconds',
      help: 'age of the newest telemetry per node, worst node',
      registers: [this.#registry],
      collect() {
        const now = Date.now();
        this.set(Math.max(0, ...[...keeper.lastSeen.values()].map((t) => (now - t) / 1000)));
      },
    });
    const listen = this.config.metricsListen;
    if (!listen) return;
    const [host, port] = listen.split(':');
    this.#http = createServer((req, res) => {
      if (req.url === '/metrics') {
        void this.#registry.metrics().then((text) => res.writeHead(200, { 'content-type': this.#registry.contentType }).end(text));
      } else if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ leader: election.isLeader(), nodes: keeper.view.nodes.length }));
      } else res.writeHead(404).end();
    }).listen(Number(port), host);
  }

  async stop(): Promise<void> {
    this.#executor?.stop();
    this.#keeper?.stop();
    await this.#election?.stop({ resign: true }).catch(() => undefined);
    this.#http?.close();
    await this.#nc?.drain().catch(() => undefined);
  }
}
