/**
 * Validated config → the form the agent runs on: milliseconds, parsed addresses, absolute tool
 * paths and secret files resolved (relative to the config file or to systemd's
 * `$CREDENTIALS_DIRECTORY`) and checked to be readable, so a bad path fails at start with exit 2.
 */
import { join, resolve } from 'node:path';
import { secretFile, type Role } from '@phoenix/shared';
import { ConfigError } from './errors.js';
import { TOOL_NAMES, type AgentConfig, type ToolName } from './schema.js';

export interface HostPort {
  host: string;
  port: number;
}

export type NatsAuth =
  | { type: 'none' }
  | { type: 'password'; user: string; passwordFile: string }
  | { type: 'nkey'; seedFile: string }
  | { type: 'creds'; file: string };

export interface CompiledConfig {
  /** Where the config came from (file path), for messages. */
  source: string;
  node: string;
  cluster: string;
  listen: HostPort;
  /** host:port announced in heartbeats. */
  advertise: string;
  tls: { ca: string; cert: string; key: string };
  allowedRoles: Role[];
  nats: { servers: string[]; auth: NatsAuth; tls?: { ca: string; cert?: string; key?: string } } | undefined;
  tools: {
    paths: Record<ToolName, string>;
    env: Record<string, string>;
    timeoutMs: number;
    /** Directory of the node's LXC configs. */
    lxcConfDir: string;
    /** Prefix of /dev and /proc for node facts. */
    hostRoot: string;
  };
  journal: { dir: string; retentionMs: number };
  telemetry: { nodeMs: number; gpuMs: number; guestsMs: number; storageMs: number; heartbeatMs: number };
  metrics: { listen: HostPort | undefined };
  labels: Record<string, string>;
  shutdownGraceMs: number;
  lockWaitMs: number;
  logLevel: string;
}

const DEFAULT_BIN_DIR = '/usr/sbin';
/** Tools Debian installs in /usr/bin rather than /usr/sbin. */
const USR_BIN_TOOLS: ReadonlySet<ToolName> = new Set(['nvidiaSmi', 'lsblk']);
const TOOL_FILES: Record<ToolName, string> = {
  pct: 'pct',
  qm: 'qm',
  pvesh: 'pvesh',
  pvesm: 'pvesm',
  zfs: 'zfs',
  zpool: 'zpool',
  pveam: 'pveam',
  nvidiaSmi: 'nvidia-smi',
  lsblk: 'lsblk',
  apparmorParser: 'apparmor_parser',
  exportfs: 'exportfs',
};

export interface CompileOptions {
  source: string;
  /** Directory relative paths are resolved against (the config file's). @default process.cwd() */
  baseDir?: string;
  env?: NodeJS.ProcessEnv;
}

export function compileConfig(config: AgentConfig, options: CompileOptions): CompiledConfig {
  const env = options.env ?? {};
  const baseDir = options.baseDir ?? process.cwd();
  const issues: string[] = [];
  const secret = (field: string, value: string): string => secretFile(field, value, baseDir, env, issues);

  const listen = parseHostPort(config.listen);
  const tls = {
    ca: secret('tls.ca', config.tls.ca),
    cert: secret('tls.cert', config.tls.cert),
    key: secret('tls.key', config.tls.key),
  };

  let nats: CompiledConfig['nats'];
  if (config.nats) {
    const a = config.nats.auth;
    const auth: NatsAuth =
      a.type === 'password'
        ? { type: 'password', user: a.user, passwordFile: secret('nats.auth.passwordFile', a.passwordFile) }
        : a.type === 'nkey'
          ? { type: 'nkey', seedFile: secret('nats.auth.seedFile', a.seedFile) }
          : a.type === 'creds'
            ? { type: 'creds', file: secret('nats.auth.file', a.file) }
            : { type: 'none' };
    nats = { servers: config.nats.servers, auth };
    const t = config.nats.tls;
    if (t) {
      nats.tls = { ca: secret('nats.tls.ca', t.ca) };
      if (t.cert !== undefined) nats.tls.cert = secret('nats.tls.cert', t.cert);
      if (t.key !== undefined) nats.tls.key = secret('nats.tls.key', t.key);
    }
  }

  const binDir = config.tools.binDir === undefined ? undefined : resolve(baseDir, config.tools.binDir);
  const paths = {} as Record<ToolName, string>;
  for (const tool of TOOL_NAMES) {
    const explicit = config.tools.paths[tool];
    const dir = binDir ?? (USR_BIN_TOOLS.has(tool) ? '/usr/bin' : DEFAULT_BIN_DIR);
    paths[tool] = explicit === undefined ? join(dir, TOOL_FILES[tool]) : resolve(baseDir, explicit);
  }

  if (issues.length > 0) throw new ConfigError(options.source, issues);

  const t = config.telemetry;
  return {
    source: options.source,
    node: config.node,
    cluster: config.cluster,
    listen,
    advertise: config.advertise ?? `${config.node}:${listen.port}`,
    tls,
    allowedRoles: config.allowedRoles,
    nats,
    tools: {
      paths,
      env: config.tools.env,
      timeoutMs: config.tools.timeoutSeconds * 1000,
      lxcConfDir: resolve(baseDir, config.tools.lxcConfDir ?? `/etc/pve/nodes/${config.node}/lxc`),
      hostRoot: resolve(baseDir, config.tools.hostRoot ?? '/'),
    },
    journal: { dir: resolve(baseDir, config.journal.dir), retentionMs: config.journal.retentionHours * 3_600_000 },
    telemetry: {
      nodeMs: t.nodeIntervalSeconds * 1000,
      gpuMs: t.gpuIntervalSeconds * 1000,
      guestsMs: t.guestsIntervalSeconds * 1000,
      storageMs: t.storageIntervalSeconds * 1000,
      heartbeatMs: t.heartbeatIntervalSeconds * 1000,
    },
    metrics: { listen: config.metrics.listen === false ? undefined : parseHostPort(config.metrics.listen) },
    labels: config.labels,
    shutdownGraceMs: config.shutdownGraceSeconds * 1000,
    lockWaitMs: config.lockWaitSeconds * 1000,
    logLevel: config.log.level,
  };
}

export function parseHostPort(value: string): HostPort {
  const i = value.lastIndexOf(':');
  const host = value.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(value.slice(i + 1)) };
}
