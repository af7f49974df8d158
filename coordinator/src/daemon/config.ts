/**
 * phoenix-coordinator configuration: YAML file → zod input schema (strict, errors name the field)
 * → defaults (one object, below) → the compiled config the daemon runs on (milliseconds, secret
 * files resolved relative to the config file or to systemd's `$CREDENTIALS_DIRECTORY` and checked
 * to be readable, so a bad path fails at start with exit 2).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseYamlText } from '../spec/yaml-read.js';
import { z } from 'zod';
import { describeZodError, HEARTBEAT_INTERVAL_SECONDS, InvalidArgumentError, secretFile, type MetricsListen } from '@phoenix/shared';
import { contextSchema, type ClusterContext } from '../context/index.js';

/** Every default of the coordinator's config. */
export const COORDINATOR_DEFAULTS = {
  leaseTtlSeconds: 10,
  perNodeConcurrency: 4,
  heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS,
  requestRetentionHours: 168,
  metricsListen: false,
  openshiftWorkDir: '/var/lib/phoenix-coordinator/openshift',
} as const;

/** Passed to openshift-install besides the configured names. */
const INSTALLER_ENV = ['PATH', 'HOME', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];

const secondsSchema = z.number().positive('must be a positive number of seconds');
const hostPortSchema = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+):([0-9]{1,5})$/, 'must be host:port');

export const coordinatorConfigSchema = z.strictObject({
  /** Unique id of this coordinator (lease owner, journal actor). */
  id: z.string().regex(/^[a-zA-Z0-9._-]{1,64}$/),
  /** The cluster, NATS and the TLS files; paths may be `credential:<name>` or relative to this file. */
  context: contextSchema,
  /** Lease TTL; the leader renews at 0.75×. @default 10 */
  leaseTtlSeconds: z.number().min(1).default(COORDINATOR_DEFAULTS.leaseTtlSeconds),
  /** Pipelines running at once per node. @default 4 */
  perNodeConcurrency: z.number().int().min(1).max(64).default(COORDINATOR_DEFAULTS.perNodeConcurrency),
  /** The agents' heartbeat interval; three missed make a node down. @default 5 */
  heartbeatIntervalSeconds: secondsSchema.default(COORDINATOR_DEFAULTS.heartbeatIntervalSeconds),
  /** Requests of finished runs are deleted this long after the run finished. @default 168 (7 days) */
  requestRetentionHours: z.number().positive().default(COORDINATOR_DEFAULTS.requestRetentionHours),
  /** host:port for /metrics and /healthz; `false` turns the endpoint off. @default false */
  metricsListen: z.union([hostPortSchema, z.literal(false)]).default(COORDINATOR_DEFAULTS.metricsListen),
  /**
   * Secret stores. `keyFile`: the coordinators' X25519 private key (PEM; `credential:<name>` for a
   * systemd credential) that opens secrets sealed in NATS KV. `vault`: HashiCorp Vault KV v2 for
   * users who keep their secrets there. `output`: where Phoenix stores what it creates (OpenShift
   * credentials). @default output "kv"
   */
  secrets: z
    .strictObject({
      keyFile: z.string().min(1).optional(),
      vault: z
        .strictObject({
          address: z.string().url(),
          tokenFile: z.string().min(1),
          caFile: z.string().min(1).optional(),
          namespace: z.string().min(1).optional(),
        })
        .optional(),
      output: z.enum(['kv', 'vault']).default('kv'),
    })
    .default({ output: 'kv' }),
  /**
   * OpenShift installs: the `openshift-install` binary (of the release the clusters run), the
   * directory install directories go below, and environment names passed to it (proxies). Without
   * it, OpenShift clusters are planned but their VMs are held back and reported.
   */
  openshift: z
    .strictObject({
      installer: z.string().min(1),
      workDir: z.string().min(1).default(COORDINATOR_DEFAULTS.openshiftWorkDir),
      passEnv: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')).default([]),
    })
    .optional(),
  /** @default $PHOENIX_LOG_LEVEL, else "info" */
  log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).optional() }).default({}),
});
export type CoordinatorConfigInput = z.input<typeof coordinatorConfigSchema>;
export type CoordinatorConfig = z.output<typeof coordinatorConfigSchema>;

/** What the daemon runs on. */
export interface CompiledCoordinatorConfig {
  /** Where the config came from (file path), for messages. */
  source: string;
  id: string;
  /** The context with every file path resolved. */
  context: ClusterContext;
  leaseTtlMs: number;
  perNodeConcurrency: number;
  heartbeatIntervalMs: number;
  requestRetentionMs: number;
  metricsListen: MetricsListen | undefined;
  logLevel: string | undefined;
  secrets: CompiledSecretsConfig;
  openshift: CompiledOpenShiftConfig | undefined;
}

export interface CompiledOpenShiftConfig {
  /** Absolute path of openshift-install. */
  installer: string;
  workDir: string;
  /** Environment of every installer call. */
  env: Record<string, string>;
}

/** Secret stores with every file path resolved. */
export interface CompiledSecretsConfig {
  keyFile: string | undefined;
  vault: { address: string; tokenFile: string; caFile: string | undefined; namespace: string | undefined } | undefined;
  output: 'kv' | 'vault';
}

export interface CompileCoordinatorOptions {
  source: string;
  /** Directory relative paths are resolved against (the config file's). @default process.cwd() */
  baseDir?: string;
  env?: NodeJS.ProcessEnv;
}

export function compileCoordinatorConfig(config: CoordinatorConfig, options: CompileCoordinatorOptions): CompiledCoordinatorConfig {
  const env = options.env ?? {};
  const baseDir = options.baseDir ?? process.cwd();
  const issues: string[] = [];
  const secret = (field: string, value: string): string => secretFile(`context.${field}`, value, baseDir, env, issues);
  const c = config.context;
  const context: ClusterContext = {
    ...c,
    nats: { ...c.nats, passwordFile: secret('nats.passwordFile', c.nats.passwordFile) },
    tls: { ca: secret('tls.ca', c.tls.ca), cert: secret('tls.cert', c.tls.cert), key: secret('tls.key', c.tls.key) },
  };
  const sec = config.secrets;
  const fileOf = (field: string, value: string): string => secretFile(field, value, baseDir, env, issues);
  const secrets: CompiledSecretsConfig = {
    keyFile: sec.keyFile === undefined ? undefined : fileOf('secrets.keyFile', sec.keyFile),
    vault:
      sec.vault === undefined
        ? undefined
        : {
            address: sec.vault.address,
            tokenFile: fileOf('secrets.vault.tokenFile', sec.vault.tokenFile),
            caFile: sec.vault.caFile === undefined ? undefined : fileOf('secrets.vault.caFile', sec.vault.caFile),
            namespace: sec.vault.namespace,
          },
    output: sec.output,
  };
  if (sec.output === 'vault' && sec.vault === undefined) issues.push('secrets.output: "vault" needs secrets.vault');
  let openshift: CompiledOpenShiftConfig | undefined;
  if (config.openshift) {
    const o = config.openshift;
    const installerEnv: Record<string, string> = {};
    for (const name of [...INSTALLER_ENV, ...o.passEnv]) {
      const v = env[name];
      if (v !== undefined) installerEnv[name] = v;
    }
    openshift = { installer: resolve(baseDir, o.installer), workDir: resolve(baseDir, o.workDir), env: installerEnv };
  }
  if (issues.length > 0) throw new InvalidArgumentError('config', options.source, issues.join('; '));
  let metricsListen: MetricsListen | undefined;
  if (config.metricsListen !== false) {
    const i = config.metricsListen.lastIndexOf(':');
    metricsListen = { host: config.metricsListen.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(config.metricsListen.slice(i + 1)) };
  }
  return {
    source: options.source,
    id: config.id,
    context,
    leaseTtlMs: Math.round(config.leaseTtlSeconds * 1000),
    perNodeConcurrency: config.perNodeConcurrency,
    heartbeatIntervalMs: config.heartbeatIntervalSeconds * 1000,
    requestRetentionMs: config.requestRetentionHours * 3_600_000,
    metricsListen,
    logLevel: config.log.level,
    secrets,
    openshift,
  };
}

/** Validates an already parsed document and compiles it. InvalidArgumentError names every bad field. */
export function parseCoordinatorConfig(document: unknown, options: CompileCoordinatorOptions): CompiledCoordinatorConfig {
  const r = coordinatorConfigSchema.safeParse(document ?? {});
  if (!r.success) throw new InvalidArgumentError('config', options.source, describeZodError(r.error, document).join('; '), { cause: r.error });
  return compileCoordinatorConfig(r.data, options);
}

export async function loadCoordinatorConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<CompiledCoordinatorConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new InvalidArgumentError('--config', path, 'cannot read the config file', { cause });
  }
  const data = parseYamlText(text, path);
  return parseCoordinatorConfig(data, { source: path, baseDir: dirname(resolve(path)), env });
}
