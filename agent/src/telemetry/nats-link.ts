/**
 * The agent's NATS connection, kept alive in the background: never gives up reconnecting, never
 * blocks the daemon (the gRPC API works without NATS), and tells publishers whether a message
 * would reach the server right now, so telemetry is skipped rather than queued while NATS is down.
 * Credentials are read from files at each (re)connection and never logged.
 */
import { readFile } from 'node:fs/promises';
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type ConnectionOptions,
  type NatsConnection,
} from '@nats-io/transport-node';
import type { Logger } from '@phoenix/shared';
import type { CompiledConfig } from '../config/index.js';

export interface NatsLinkEvents {
  /** `reconnected` is true for a reconnection after a loss, false for the first connection. */
  status(connected: boolean, reconnected: boolean): void;
}

/** What publishers need: whether a message would go out now, and the publish itself. */
export interface Publisher {
  readonly connected: boolean;
  publish(subject: string, payload: Uint8Array): void;
}

const RETRY_AFTER_CLOSE_MS = 2_000;

export class NatsLink implements Publisher {
  private nc: NatsConnection | undefined;
  private isConnected = false;
  private closing = false;
  private everConnected = false;
  private wakeRetry: (() => void) | undefined;

  constructor(
    private readonly config: NonNullable<CompiledConfig['nats']>,
    private readonly name: string,
    private readonly log: Logger,
    private readonly events: NatsLinkEvents,
  ) {}

  get connected(): boolean {
    return this.isConnected;
  }

  start(): void {
    void this.loop();
  }

  publish(subject: string, payload: Uint8Array): void {
    if (!this.nc || !this.isConnected) throw new Error('not connected to NATS');
    this.nc.publish(subject, payload);
  }

  /** Flushes what was published and closes (bounded by `timeoutMs`). */
  async close(timeoutMs = 5_000): Promise<void> {
    this.closing = true;
    this.wakeRetry?.();
    const nc = this.nc;
    if (nc && !nc.isClosed()) {
      const drained = nc.drain().catch((err: unknown) => this.log.warn({ err }, 'NATS drain failed'));
      const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
      await Promise.race([drained, timer]);
      if (!nc.isClosed()) await nc.close().catch(() => undefined);
    }
    this.setConnected(false, false);
  }

  private async loop(): Promise<void> {
    while (!this.closing) {
      try {
        const nc = await connect(await this.options());
        if (this.closing) {
          await nc.close();
          return;
        }
        this.nc = nc;
        this.log.info({ server: nc.getServer() }, 'connected to NATS');
        this.setConnected(true, this.everConnected);
        this.everConnected = true;
        void this.watch(nc);
        const err = await nc.closed();
        this.nc = undefined;
        this.setConnected(false, false);
        if (!this.closing) this.log.warn({ err }, 'NATS connection closed; connecting again');
      } catch (err) {
        if (!this.closing) this.log.error({ err }, 'NATS connection failed; trying again');
      }
      if (!this.closing) {
        await new Promise<void>((resolve) => {
          this.wakeRetry = resolve;
          setTimeout(resolve, RETRY_AFTER_CLOSE_MS).unref();
        });
      }
    }
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          this.log.warn({ server: s.server }, 'disconnected from NATS');
          this.setConnected(false, false);
          break;
        case 'reconnect':
          this.log.info({ server: s.server }, 'reconnected to NATS');
          this.setConnected(true, true);
          break;
        case 'error':
          // Permission violations land here: the server refused a publish on a subject we may not use.
          this.log.error({ err: s.error }, 'NATS reported an error');
          break;
        default:
          break;
      }
    }
  }

  private setConnected(connected: boolean, reconnected: boolean): void {
    if (connected === this.isConnected && !reconnected) return;
    this.isConnected = connected;
    this.events.status(connected, reconnected);
  }

  private async options(): Promise<ConnectionOptions> {
    const options: ConnectionOptions = {
      servers: this.config.servers,
      name: this.name,
      maxReconnectAttempts: -1,
      waitOnFirstConnect: true,
      reconnectTimeWait: 1_000,
      pingInterval: 20_000,
    };
    const auth = this.config.auth;
    if (auth.type === 'password') {
      options.user = auth.user;
      options.pass = (await readFile(auth.passwordFile, 'utf8')).trim();
    } else if (auth.type === 'nkey') {
      options.authenticator = nkeyAuthenticator(new TextEncoder().encode((await readFile(auth.seedFile, 'utf8')).trim()));
    } else if (auth.type === 'creds') {
      options.authenticator = credsAuthenticator(await readFile(auth.file));
    }
    const tls = this.config.tls;
    if (tls) {
      options.tls = { caFile: tls.ca };
      if (tls.cert) options.tls.certFile = tls.cert;
      if (tls.key) options.tls.keyFile = tls.key;
    }
    return options;
  }
}
