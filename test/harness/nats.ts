/**
 * A real nats-server secured like production: one account with JetStream, a user per node that
 * may publish only its own telemetry and health subjects, and a coordinator user that may use
 * everything (subscribe to all telemetry, JetStream and KV). Passwords are random, written to
 * 0600 files for the processes that need them, and never logged. The server picks its port on the
 * first start (`port: -1`, learned from its ports file); stop/start keep port and store so clients
 * can test reconnection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { reapWithParent } from './reaper.js';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { natsServerBinary, waitForNatsPort } from './nats-basic.js';

export interface NatsUserCredentials {
  user: string;
  /** File holding the password (mode 0600). */
  passwordFile: string;
}

export interface SecuredNatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Credentials of a node's agent user (publish: its own telemetry and health subjects only). */
  nodeUser(node: string): NatsUserCredentials;
  /** The coordinator user (everything). */
  readonly coordinatorUser: NatsUserCredentials;
  /** Connects as `user` (a node name or "coordinator"). */
  connectAs(user: string, options?: Partial<ConnectionOptions>): Promise<NatsConnection>;
  /** The server's recent log output (stderr), for failure messages. */
  log(): string;
  stop(): Promise<void>;
  /** Starts again on the same port with the same store. */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export interface SecuredNatsOptions {
  cluster: string;
  nodes: readonly string[];
  readyTimeoutMs?: number;
}

export async function startSecuredNats(options: SecuredNatsOptions): Promise<SecuredNatsServer> {
  const binary = natsServerBinary();
  const dir = await mkdtemp(join(tmpdir(), 'phoenix-nats-'));
  const storeDir = join(dir, 'store');
  const configFile = join(dir, 'nats.conf');
  const users = new Map<string, { user: string; password: string; passwordFile: string }>();
  for (const name of [...options.nodes.map((n) => `node-${n}`), 'coordinator']) {
    const password = randomBytes(24).toString('base64url');
    const passwordFile = join(dir, `${name}.password`);
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    users.set(name, { user: name, password, passwordFile });
  }
  let port = -1;
  let child: ChildProcess | undefined;
  let output = '';

  const writeConfig = async (): Promise<void> => {
    const entries = options.nodes.map((node) => {
      const u = users.get(`node-${node}`)!;
      const publish = [`phoenix.telemetry.${options.cluster}.${node}.>`, `phoenix.health.${options.cluster}.${node}`];
      return `      { user: ${JSON.stringify(u.user)}, password: ${JSON.stringify(u.password)}, permissions: { publish: { allow: ${JSON.stringify(publish)} }, subscribe: { allow: ["_INBOX.>"] } } }`;
    });
    const c = users.get('coordinator')!;
    entries.push(`      { user: ${JSON.stringify(c.user)}, password: ${JSON.stringify(c.password)}, permissions: { publish: { allow: [">"] }, subscribe: { allow: [">"] } } }`);
    const text = [
      'host: "127.0.0.1"',
      `port: ${port}`,
      `ports_file_dir: ${JSON.stringify(dir)}`,
      'server_name: phoenix-test',
      `jetstream { store_dir: ${JSON.stringify(storeDir)} }`,
      'accounts {',
      '  PHOENIX {',
      '    jetstream: enabled',
      '    users: [',
      entries.join(',\n'),
      '    ]',
      '  }',
      '}',
      '',
    ].join('\n');
    await writeFile(configFile, text, { mode: 0o600 });
  };

  const start = async (): Promise<void> => {
    if (child) return;
    await writeConfig();
    output = '';
    const proc = reapWithParent(spawn(binary, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] }));
    child = proc;
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      output = (output + chunk).slice(-16_000);
    });
    port = await waitForNatsPort(proc, dir, binary, options.readyTimeoutMs ?? 10_000, () => output);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  const credentials = (name: string): NatsUserCredentials => {
    const u = users.get(name);
    if (!u) throw new Error(`no NATS user ${name}`);
    return { user: u.user, passwordFile: u.passwordFile };
  };
  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    storeDir,
    nodeUser: (node) => credentials(`node-${node}`),
    coordinatorUser: credentials('coordinator'),
    connectAs(user, extra = {}) {
      const u = users.get(user === 'coordinator' ? 'coordinator' : `node-${user}`);
      if (!u) throw new Error(`no NATS user for ${user}`);
      return connect({
        servers: `nats://127.0.0.1:${port}`,
        user: u.user,
        pass: u.password,
        name: `test-${user}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 100,
        ...extra,
      });
    },
    log: () => output,
    stop,
    start,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
