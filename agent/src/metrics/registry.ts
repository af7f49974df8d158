/**
 * Prometheus metrics of the agent, on a registry of its own. Names follow Prometheus conventions
 * (base units, `_total` counters); labels are bounded (RPC kinds, outcomes, tool names, status
 * codes) and never carry ids or messages. No node label: the scrape target says which node.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { CallOutcome } from '@phoenix/shared';
import type { OperationObserver, OperationOutcome } from '../journal/operations.js';

const OPERATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const COMMAND_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const RPC_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600];

export const DAEMON_STATES = ['starting', 'running', 'draining', 'stopped'] as const;
export type DaemonStateName = (typeof DAEMON_STATES)[number];

export class AgentMetrics implements OperationObserver {
  readonly registry = new Registry();
  private readonly operations: Counter<'kind' | 'outcome'>;
  private readonly operationSeconds: Histogram<'kind' | 'outcome'>;
  private readonly commandSeconds: Histogram<'command' | 'subcommand' | 'result'>;
  private readonly grpcStarted: Counter<'grpc_type' | 'grpc_service' | 'grpc_method'>;
  private readonly grpcHandled: Counter<'grpc_type' | 'grpc_service' | 'grpc_method' | 'grpc_code'>;
  private readonly grpcSeconds: Histogram<'grpc_type' | 'grpc_service' | 'grpc_method'>;
  private readonly telemetryMessages: Counter<'kind'>;
  private readonly telemetrySkipped: Counter<'kind' | 'reason'>;
  private readonly telemetryLag: Histogram<'kind'>;
  private readonly natsReconnects: Counter;
  private readonly natsConnected: Gauge;
  private readonly state: Gauge<'state'>;
  private readonly lastPublish = new Map<string, number>();

  constructor(options: { version: string; runningOperations: () => number }) {
    const registers = [this.registry];
    // Event-loop delay sampling at 100 ms keeps the default collector cheap for a 1% CPU budget.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    new Gauge({ name: 'phoenix_agent_info', help: 'Agent build information.', labelNames: ['version'], registers }).set(
      { version: options.version },
      1,
    );
    this.state = new Gauge({ name: 'phoenix_agent_state', help: 'Lifecycle state (1 for the current one).', labelNames: ['state'], registers });
    this.setState('starting');
    new Gauge({
      name: 'phoenix_agent_running_operations',
      help: 'Operations running now.',
      registers,
      collect() {
        this.set(options.runningOperations());
      },
    });
    this.operations = new Counter({
      name: 'phoenix_agent_operations_total',
      help: 'Mutating operations by RPC kind and outcome (succeeded, failed, cancelled, interrupted, rejected, replayed).',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.operationSeconds = new Histogram({
      name: 'phoenix_agent_operation_duration_seconds',
      help: 'Duration of executed operations.',
      labelNames: ['kind', 'outcome'],
      buckets: OPERATION_BUCKETS,
      registers,
    });
    this.commandSeconds = new Histogram({
      name: 'phoenix_agent_command_duration_seconds',
      help: 'Duration of node tool invocations (pct, qm, zfs, ...) by subcommand and result.',
      labelNames: ['command', 'subcommand', 'result'],
      buckets: COMMAND_BUCKETS,
      registers,
    });
    this.grpcStarted = new Counter({
      name: 'grpc_server_started_total',
      help: 'RPCs started on the server.',
      labelNames: ['grpc_type', 'grpc_service', 'grpc_method'],
      registers,
    });
    this.grpcHandled = new Counter({
      name: 'grpc_server_handled_total',
      help: 'RPCs completed on the server, by status code.',
      labelNames: ['grpc_type', 'grpc_service', 'grpc_method', 'grpc_code'],
      registers,
    });
    this.grpcSeconds = new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'RPC handling time until the status was sent.',
      labelNames: ['grpc_type', 'grpc_service', 'grpc_method'],
      buckets: RPC_BUCKETS,
      registers,
    });
    this.telemetryMessages = new Counter({
      name: 'phoenix_agent_telemetry_messages_total',
      help: 'Telemetry messages published on NATS, by kind (node, gpu, guests, heartbeat).',
      labelNames: ['kind'],
      registers,
    });
    this.telemetrySkipped = new Counter({
      name: 'phoenix_agent_telemetry_skipped_total',
      help: 'Telemetry samples not published, by kind and reason (disconnected, sample_failed).',
      labelNames: ['kind', 'reason'],
      registers,
    });
    this.telemetryLag = new Histogram({
      name: 'phoenix_agent_telemetry_lag_seconds',
      help: 'Time from the scheduled sample tick to the publish.',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    const lastPublish = this.lastPublish;
    new Gauge({
      name: 'phoenix_agent_telemetry_last_publish_age_seconds',
      help: 'Seconds since the last successful publish, by kind.',
      labelNames: ['kind'],
      registers,
      collect() {
        const now = Date.now();
        for (const [kind, at] of lastPublish) this.set({ kind }, (now - at) / 1000);
      },
    });
    this.natsReconnects = new Counter({ name: 'phoenix_agent_nats_reconnects_total', help: 'NATS reconnections.', registers });
    this.natsConnected = new Gauge({ name: 'phoenix_agent_nats_connected', help: '1 while connected to NATS.', registers });
  }

  setState(state: DaemonStateName): void {
    for (const s of DAEMON_STATES) this.state.set({ state: s }, s === state ? 1 : 0);
  }

  finished(kind: string, outcome: OperationOutcome, seconds: number): void {
    this.operations.inc({ kind, outcome });
    if (outcome !== 'replayed' && outcome !== 'rejected') this.operationSeconds.observe({ kind, outcome }, seconds);
  }

  /** The drivers' per-command hook: tool and subcommand (never arguments), ok or error. */
  commandFinished(metric: { tool: string; subcommand: string; ok: boolean; durationMs: number }): void {
    this.commandSeconds.observe({ command: metric.tool, subcommand: metric.subcommand, result: metric.ok ? 'ok' : 'error' }, metric.durationMs / 1000);
  }

  rpcStarted(call: { service: string; method: string; type: string }): void {
    this.grpcStarted.inc({ grpc_type: call.type, grpc_service: call.service, grpc_method: call.method });
  }

  rpcFinished(outcome: CallOutcome): void {
    const labels = { grpc_type: outcome.type, grpc_service: outcome.service, grpc_method: outcome.method };
    this.grpcHandled.inc({ ...labels, grpc_code: GrpcStatus[outcome.code] ?? String(outcome.code) });
    this.grpcSeconds.observe(labels, outcome.seconds);
  }

  telemetryPublished(kind: string, lagSeconds: number): void {
    this.telemetryMessages.inc({ kind });
    this.telemetryLag.observe({ kind }, lagSeconds);
    this.lastPublish.set(kind, Date.now());
  }

  telemetryNotPublished(kind: string, reason: 'disconnected' | 'sample_failed' | 'publish_failed'): void {
    this.telemetrySkipped.inc({ kind, reason });
  }

  natsStatus(connected: boolean, reconnected: boolean): void {
    this.natsConnected.set(connected ? 1 : 0);
    if (reconnected) this.natsReconnects.inc();
  }
}
