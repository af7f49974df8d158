/**
 * The agent's gRPC server: AgentService behind the shared adapter (every handler wrapped, caller
 * authorised from its client certificate), the standard health service, mTLS that refuses any
 * client without a certificate signed by the cluster CA.
 */
import { Server } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import {
  adaptService,
  agentv1,
  callerIdentity,
  requireRole,
  serverCredentials,
  type CallOutcome,
  type CallType,
  type Identity,
  type Logger,
  type Role,
  type TlsMaterial,
} from '@phoenix/shared';
import type { HostPort } from '../config/index.js';
import type { AgentServiceImplementation } from './agent-service.js';

export const AGENT_SERVICE_NAME = 'phoenix.agent.v1.AgentService';

export interface GrpcServerOptions {
  listen: HostPort;
  tls: TlsMaterial;
  allowedRoles: readonly Role[];
  implementation: AgentServiceImplementation;
  logger: Logger;
  onCallStart?(call: { service: string; method: string; type: CallType }): void;
  onCallEnd?(outcome: CallOutcome): void;
}

export interface AgentGrpcServer {
  /** Bound port (the config may ask for port 0). */
  readonly port: number;
  setServing(serving: boolean): void;
  /** Graceful shutdown bounded by `timeoutMs`, then forced. */
  shutdown(timeoutMs: number): Promise<void>;
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<AgentGrpcServer> {
  const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  const health = new HealthImplementation({ '': 'NOT_SERVING', [AGENT_SERVICE_NAME]: 'NOT_SERVING' });
  health.addToServer(server);
  const authorize = (call: Parameters<typeof callerIdentity>[0]): Identity => {
    const identity = callerIdentity(call);
    requireRole(identity, options.allowedRoles);
    return identity;
  };
  const impl = adaptService(agentv1.AgentServiceService, options.implementation, {
    service: AGENT_SERVICE_NAME,
    logger: options.logger,
    authorize,
    ...(options.onCallStart ? { onCallStart: options.onCallStart } : {}),
    ...(options.onCallEnd ? { onCallEnd: options.onCallEnd } : {}),
  });
  server.addService(agentv1.AgentServiceService, impl);
  const host = options.listen.host.includes(':') ? `[${options.listen.host}]` : options.listen.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.listen.port}`, serverCredentials(options.tls), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
  options.logger.info({ address: `${host}:${port}` }, 'gRPC listening (mTLS)');
  return {
    port,
    setServing(serving) {
      const status = serving ? 'SERVING' : 'NOT_SERVING';
      health.setStatus('', status);
      health.setStatus(AGENT_SERVICE_NAME, status);
    },
    async shutdown(timeoutMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
