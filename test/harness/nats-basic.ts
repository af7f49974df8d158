/**
 * A real nats-server with JetStream for integration tests: temp store dir, a free port chosen by
 * the server itself (learned from its ports file), stop and restart on the same port and store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { reapWithParent } from './reaper.js';

const CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

export function natsServerBinary(): string {
  const fromEnv = process.env['NATS_SERVER_BIN'];
  if (fromEnv) return fromEnv;
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error(`nats-server not found (tried ${CANDIDATES.join(', ')}; set NATS_SERVER_BIN)`);
  return found;
}

export interface BasicNatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** The server process while it runs. */
  readonly pid: number | undefined;
  /** Connects a client; `name` shows in server monitoring. */
  connect(name?: string): Promise<NatsConnection>;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); the store dir is kept. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same store. */
  restart(): Promise<void>;
  /** Stops it and removes the store dir. */
  dispose(): Promise<void>;
}

/**
 * Waits for the ports file nats-server writes once it listens (`--ports_file_dir`), and returns the
 * client port; kills the server and throws with its log if it exits or does not come up in time.
 */
export async function waitForNatsPort(proc: ChildProcess, portsDir: string, binary: string, timeoutMs: number, log: () => string): Promise<number> {
  const portsFile = join(portsDir, `${basename(binary)}_${proc.pid}.ports`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`nats-server exited with ${proc.exitCode}:\n${log()}`);
    try {
      const ports = JSON.parse(await readFile(portsFile, 'utf8')) as { nats?: string[] };
      const url = ports.nats?.[0];
      if (url) return Number(new URL(url).port);
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  proc.kill('SIGKILL');
  throw new Error(`nats-server not ready after ${timeoutMs} ms:\n${log()}`);
}

export async function startNatsServer(options: { readyTimeoutMs?: number } = {}): Promise<BasicNatsServer> {
  const binary = natsServerBinary();
  const dir = await mkdtemp(join(tmpdir(), 'phoenix-nats-'));
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;
  let port = -1;
  let log = '';

  async function launch(): Promise<void> {
    log = '';
    const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'store'), '--ports_file_dir', dir, '-n', 'phoenix-test'];
    const proc = reapWithParent(spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
    child = proc;
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      log = (log + chunk).slice(-8_000);
    });
    port = await waitForNatsPort(proc, dir, binary, readyTimeoutMs, () => log);
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  await launch();
  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    storeDir: join(dir, 'store'),
    get pid() {
      return child?.pid;
    },
    connect(name = 'phoenix-test') {
      return connect({ servers: `nats://127.0.0.1:${port}`, name, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    },
    stop,
    async restart() {
      await stop();
      await launch();
    },
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
