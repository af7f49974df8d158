import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { status } from '@grpc/grpc-js';
import { AgentMetrics } from './registry.js';
import { startMetricsServer } from '@phoenix/shared';

describe('metrics - agent registry', () => {
  it('serves operations, commands, telemetry and NATS series on /metrics', async () => {
    const metrics = new AgentMetrics({ version: '1.2.3', runningOperations: () => 3 });
    metrics.setState('running');
    metrics.finished('CreateGuest', 'succeeded', 1.5);
    metrics.finished('CreateGuest', 'replayed', 0);
    metrics.commandFinished({ tool: 'pct', subcommand: 'create', ok: true, durationMs: 1200 });
    metrics.rpcStarted({ service: 'phoenix.agent.v1.AgentService', method: 'CreateGuest', type: 'unary' });
    metrics.rpcFinished({ service: 'phoenix.agent.v1.AgentService', method: 'CreateGuest', type: 'unary', code: status.RESOURCE_EXHAUSTED, seconds: 0.2 });
    metrics.telemetryPublished('node', 0.004);
    metrics.telemetryNotPublished('gpu', 'disconnected');
    metrics.natsStatus(true, false);
    metrics.natsStatus(false, false);
    metrics.natsStatus(true, true);

    const server = await startMetricsServer(metrics.registry, { host: '127.0.0.1', port: 0 }, pino({ level: 'silent' }));
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text).toMatch(/^phoenix_agent_info\{version="1\.2\.3"\} 1$/m);
      expect(text).toMatch(/^phoenix_agent_state\{state="running"\} 1$/m);
      expect(text).toMatch(/^phoenix_agent_state\{state="draining"\} 0$/m);
      expect(text).toMatch(/^phoenix_agent_running_operations 3$/m);
      expect(text).toMatch(/^phoenix_agent_operations_total\{kind="CreateGuest",outcome="succeeded"\} 1$/m);
      expect(text).toMatch(/^phoenix_agent_operations_total\{kind="CreateGuest",outcome="replayed"\} 1$/m);
      expect(text).toMatch(/^phoenix_agent_operation_duration_seconds_count\{kind="CreateGuest",outcome="succeeded"\} 1$/m);
      expect(text).toMatch(/^phoenix_agent_command_duration_seconds_sum\{command="pct",subcommand="create",result="ok"\} 1\.2$/m);
      expect(text).toMatch(/^grpc_server_handled_total\{grpc_type="unary",grpc_service="phoenix\.agent\.v1\.AgentService",grpc_method="CreateGuest",grpc_code="RESOURCE_EXHAUSTED"\} 1$/m);
      expect(text).toMatch(/^phoenix_agent_telemetry_messages_total\{kind="node"\} 1$/m);
      expect(text).toMatch(/^phoenix_agent_telemetry_last_publish_age_seconds\{kind="node"\} \d/m);
      expect(text).toMatch(/^phoenix_agent_telemetry_skipped_total\{kind="gpu",reason="disconnected"\} 1$/m);
      expect(text).toMatch(/^phoenix_agent_nats_reconnects_total 1$/m);
      expect(text).toMatch(/^phoenix_agent_nats_connected 1$/m);
      expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
