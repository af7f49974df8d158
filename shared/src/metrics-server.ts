/**
 * Serves `/metrics` for Prometheus (and, when asked, `/healthz` as JSON) with node:http on the
 * management address. Takes any registry shaped like prom-client's, so shared needs no metrics library.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.js';

export interface MetricsRegistry {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface MetricsListen {
  host: string;
  port: number;
}

export interface MetricsServer {
  /** Bound port (useful when the config asked for port 0). */
  port: number;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  /** Body of `/healthz` (JSON); without it `/healthz` is not served. */
  health?: () => unknown;
}

export async function startMetricsServer(registry: MetricsRegistry, listen: MetricsListen, log: Logger, options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const { health } = options;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/healthz' && health) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(health()));
      return;
    }
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => {
        log.error({ err }, 'collecting metrics failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
      },
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ address: `${listen.host}:${port}` }, 'metrics endpoint listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
