/**
 * A real phoenix-agent PROCESS for integration tests: `node agent/dist/main.js --config <file>`
 * (built by `npx tsc -b`), mTLS on a loopback port the agent picks (then kept across restarts),
 * its JSON log parsed line by line. `kill9()` kills the agent and every descendant the way systemd
 * kills a unit's cgroup, so a crash leaves what a real crash leaves (half-done tool calls, locks).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { reapWithParent } from './reaper.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, loadPackageDefinition, type ChannelCredentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { agentv1, clientCredentials, targetNameOverride, type TlsMaterial } from '@phoenix/shared';
import type { TestPki } from './certs.js';
import type { NatsUserCredentials } from './nats.js';

/** The repository root, from the sources (test/harness) or the build (test/dist/harness). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'agent', 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

const AGENT_MAIN = join(repoRoot(), 'agent/dist/main.js');

export interface AgentProcessOptions {
  node: string;
  cluster: string;
  pki: TestPki;
  nats?: { url: string; credentials: NatsUserCredentials };
  /**
   * Directory with the node tools (the emulator's bin) and the environment they get. The agent's
   * LXC config directory and host root follow the emulator's state directory (`PVE_EMU_STATE`)
   * unless given.
   */
  tools?: { binDir: string; env: Record<string, string>; lxcConfDir?: string; hostRoot?: string };
  /** Working directory: config and journal. Kept across restarts. */
  dir?: string;
  graceSeconds?: number;
  lockWaitSeconds?: number;
  /** Telemetry intervals in seconds (all default to 0.25 s). */
  telemetry?: Partial<Record<'node' | 'gpu' | 'guests' | 'storage' | 'heartbeat', number>>;
  metrics?: boolean;
  /** Extra config fields merged at the top level. */
  extra?: Record<string, unknown>;
  /** Flags for node itself, before the script (V8 heap sizes, --cpu-prof). */
  nodeArgs?: string[];
}

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class AgentProcess {
  private child: ChildProcess | undefined;
  private lines: LogLine[] = [];
  private rawTail = '';
  private grpcPortValue = 0;
  private metricsPortValue = 0;
  private exitInfo: Promise<ExitInfo> = Promise.resolve({ code: null, signal: null });

  private constructor(
    readonly options: AgentProcessOptions,
    readonly dir: string,
    private readonly configFile: string,
    private readonly ownsDir: boolean,
  ) {}

  /** Starts an agent; `env` is added to its environment (e.g. PHOENIX_AGENT_* overrides). */
  static async start(options: AgentProcessOptions, env: NodeJS.ProcessEnv = {}): Promise<AgentProcess> {
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), `phoenix-agent-${options.node}-`)));
    const agent = new AgentProcess(options, dir, join(dir, 'agent.yaml'), options.dir === undefined);
    await agent.launch(env);
    return agent;
  }

  get grpcPort(): number {
    return this.grpcPortValue;
  }
  get metricsPort(): number {
    return this.metricsPortValue;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  get exited(): Promise<ExitInfo> {
    return this.exitInfo;
  }
  /** Parsed log lines since the last (re)start. */
  get logs(): readonly LogLine[] {
    return this.lines;
  }
  logTail(n = 40): string {
    return this.lines
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join('\n');
  }

  /** Writes the config (JSON is YAML) and starts the process; resolves once the agent is running. */
  async launch(env: NodeJS.ProcessEnv = {}, readyTimeoutMs = 20_000): Promise<void> {
    const o = this.options;
    const t = o.telemetry ?? {};
    const config: Record<string, unknown> = {
      node: o.node,
      cluster: o.cluster,
      listen: `127.0.0.1:${this.grpcPortValue}`,
      advertise: `127.0.0.1:${this.grpcPortValue}`,
      tls: o.pki.node(o.node),
      journal: { dir: join(this.dir, 'journal') },
      telemetry: {
        nodeIntervalSeconds: t.node ?? 0.25,
        gpuIntervalSeconds: t.gpu ?? 0.25,
        guestsIntervalSeconds: t.guests ?? 0.25,
        storageIntervalSeconds: t.storage ?? 0.25,
        heartbeatIntervalSeconds: t.heartbeat ?? 0.25,
      },
      metrics: { listen: o.metrics ? `127.0.0.1:${this.metricsPortValue}` : false },
      shutdownGraceSeconds: o.graceSeconds ?? 5,
      lockWaitSeconds: o.lockWaitSeconds ?? 5,
      log: { level: 'debug' },
      ...(o.nats
        ? { nats: { servers: [o.nats.url], auth: { type: 'password', user: o.nats.credentials.user, passwordFile: o.nats.credentials.passwordFile } } }
        : {}),
      ...(o.tools ? { tools: agentToolsConfig(o.tools) } : {}),
      ...o.extra,
    };
    await writeFile(this.configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    this.lines = [];
    this.rawTail = '';
    const child = reapWithParent(
      spawn(process.execPath, [...(o.nodeArgs ?? []), AGENT_MAIN, '--config', this.configFile], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
      }),
    );
    this.child = child;
    this.exitInfo = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let rest = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      rest += chunk;
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.rawTail = (this.rawTail + line + '\n').slice(-4_000);
        }
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.rawTail = (this.rawTail + chunk).slice(-4_000);
    });
    const ready = await Promise.race([
      this.waitForLog((l) => l.msg === 'agent running', readyTimeoutMs).then(() => true),
      this.exitInfo.then(() => false),
    ]);
    if (!ready) throw new Error(`agent ${o.node} exited during start-up:\n${this.rawTail}\n${this.logTail()}`);
    const listening = this.lines.find((l) => l.msg === 'gRPC listening (mTLS)');
    this.grpcPortValue = portOf(listening?.['address']);
    const metrics = this.lines.find((l) => l.msg === 'metrics endpoint listening');
    if (metrics) this.metricsPortValue = portOf(metrics['address']);
  }

  /** Resolves with the first log line (since start) that matches. */
  async waitForLog(match: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`log line not seen within ${timeoutMs} ms; last lines:\n${this.logTail()}\n${this.rawTail}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** A client for AgentService authenticated by `tls` (or no client certificate at all). */
  client(tls: TlsMaterial | { ca: Buffer }): agentv1.AgentServiceClient {
    return new agentv1.AgentServiceClient(`127.0.0.1:${this.grpcPortValue}`, channelCredentials(tls), targetNameOverride(this.options.node));
  }

  /** grpc.health.v1 Check for `service` ('' = the whole server). */
  async health(tls: TlsMaterial, service = ''): Promise<string> {
    const client = healthClient(`127.0.0.1:${this.grpcPortValue}`, channelCredentials(tls), this.options.node);
    try {
      return await new Promise<string>((resolve, reject) =>
        client.check({ service }, { deadline: Date.now() + 3_000 }, (err: ServiceError | null, res: { status: string }) =>
          err ? reject(err) : resolve(res.status),
        ),
      );
    } finally {
      client.close();
    }
  }

  signal(sig: NodeJS.Signals): void {
    this.child?.kill(sig);
  }

  /** SIGKILL to the agent and all its descendants at once (stopped first so none escapes). */
  async kill9(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    const tree = [pid, ...descendants(pid)];
    for (const p of tree) trySignal(p, 'SIGSTOP');
    const all = new Set([...tree, ...tree.flatMap((p) => descendants(p))]);
    for (const p of all) trySignal(p, 'SIGKILL');
    await this.exitInfo;
  }

  /** Stops with SIGTERM and waits for the exit. */
  async stop(timeoutMs = 20_000): Promise<ExitInfo> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return this.exitInfo;
    this.signal('SIGTERM');
    const timer = setTimeout(() => void this.kill9(), timeoutMs);
    const info = await this.exitInfo;
    clearTimeout(timer);
    return info;
  }

  /** Stops the agent and removes the working directory the harness made for it. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
  }

  /** Starts the agent again with the same config, port and journal. */
  restart(env: NodeJS.ProcessEnv = {}): Promise<void> {
    return this.launch(env);
  }
}

function channelCredentials(tls: TlsMaterial | { ca: Buffer }): ChannelCredentials {
  return 'cert' in tls ? clientCredentials(tls) : credentials.createSsl(tls.ca);
}

interface HealthClient extends Client {
  check(
    req: { service: string },
    options: { deadline: number },
    cb: (err: ServiceError | null, res: { status: string }) => void,
  ): void;
}

let healthCtor: (new (address: string, creds: ChannelCredentials, options: object) => HealthClient) | undefined;

function healthClient(address: string, creds: ChannelCredentials, serverName: string): HealthClient {
  if (!healthCtor) {
    const def = loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
    const pkg = loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: typeof healthCtor } } } };
    healthCtor = pkg.grpc.health.v1.Health;
  }
  return new healthCtor!(address, creds, targetNameOverride(serverName));
}

function portOf(address: unknown): number {
  const text = String(address ?? '');
  const port = Number(text.slice(text.lastIndexOf(':') + 1));
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no port in ${text}`);
  return port;
}

/** Every process whose parent chain leads to `root` (read from /proc). */
export function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(name), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const [child, parent] of parents) {
      if (parent === p) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

/** Descendants of `root` with their command lines. */
export function processTree(root: number): Array<{ pid: number; cmdline: string }> {
  return descendants(root).flatMap((pid) => {
    try {
      return [{ pid, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() }];
    } catch {
      return [];
    }
  });
}

function trySignal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** The agent's `tools` section for an emulated node: the emulator's paths as plain config. */
export function agentToolsConfig(tools: NonNullable<AgentProcessOptions['tools']>): Record<string, unknown> {
  const state = tools.env['PVE_EMU_STATE'];
  const lxcConfDir = tools.lxcConfDir ?? (state === undefined ? undefined : `${state}/lxc`);
  const hostRoot = tools.hostRoot ?? (state === undefined ? undefined : `${state}/host`);
  return {
    binDir: tools.binDir,
    env: tools.env,
    ...(lxcConfDir === undefined ? {} : { lxcConfDir }),
    ...(hostRoot === undefined ? {} : { hostRoot }),
  };
}
