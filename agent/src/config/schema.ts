/**
 * The agent's configuration as written by people: YAML, every object strict (a typo is an error),
 * every default named here. Secrets are never values, only paths to files (see `secretPath`).
 */
import { z } from 'zod';
import { clusterNameSchema, HEARTBEAT_INTERVAL_SECONDS, nodeNameSchema, ROLES, TELEMETRY_INTERVAL_SECONDS } from '@phoenix/shared';

/** `host:port`, IPv6 hosts in brackets. Port 0 asks the kernel for a free port (tests). */
export const hostPortSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+):([0-9]{1,5})$/, 'must be host:port')
  .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535');

/**
 * A file holding a secret or a certificate: an absolute path, a path relative to the config file,
 * or `credential:<name>` for a file systemd passes with `LoadCredential=` (in `$CREDENTIALS_DIRECTORY`).
 */
export const secretPathSchema = z.string().min(1, 'must name a file');

const secondsSchema = z.number().positive('must be a positive number of seconds');

export const TOOL_NAMES = ['pct', 'qm', 'pvesh', 'pvesm', 'zfs', 'zpool', 'pveam', 'nvidiaSmi', 'lsblk', 'apparmorParser', 'exportfs'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

const natsUrlSchema = z.string().regex(/^(nats|tls):\/\/[^\s/]+$/, 'must be a nats:// or tls:// URL with host and port');

const natsAuthSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  /** User name in the config, password in a file. */
  z.strictObject({ type: z.literal('password'), user: z.string().min(1), passwordFile: secretPathSchema }),
  /** An nkey seed file (`SU...`). */
  z.strictObject({ type: z.literal('nkey'), seedFile: secretPathSchema }),
  /** A `.creds` file (JWT + seed) as `nsc` writes it. */
  z.strictObject({ type: z.literal('creds'), file: secretPathSchema }),
]);

export const agentConfigSchema = z.strictObject({
  /** This Proxmox node's name (a DNS label, as `pvecm nodes` shows it). */
  node: nodeNameSchema,
  cluster: clusterNameSchema,
  /** gRPC listen address. @default "0.0.0.0:7443" */
  listen: hostPortSchema.default('0.0.0.0:7443'),
  /** Address published in heartbeats for coordinators to dial. @default "<node>:<listen port>" */
  advertise: hostPortSchema.optional(),
  tls: z.strictObject({ ca: secretPathSchema, cert: secretPathSchema, key: secretPathSchema }),
  /** Caller roles (OU of the client certificate) allowed to call the agent. @default ["coordinator","admin"] */
  allowedRoles: z.array(z.enum(ROLES)).min(1).default(['coordinator', 'admin']),
  nats: z
    .strictObject({
      servers: z.array(natsUrlSchema).min(1),
      auth: natsAuthSchema.default({ type: 'none' }),
      /** CA bundle to verify the NATS server; client certificate optional. */
      tls: z
        .strictObject({ ca: secretPathSchema, cert: secretPathSchema.optional(), key: secretPathSchema.optional() })
        .optional(),
    })
    .optional(),
  tools: z
    .strictObject({
      /** Directory holding every tool; individual `paths` win. @default "/usr/sbin" (nvidia-smi, lsblk: "/usr/bin") */
      binDir: z.string().min(1).optional(),
      paths: z.strictObject(Object.fromEntries(TOOL_NAMES.map((t) => [t, z.string().min(1).optional()])) as {
        [K in ToolName]: z.ZodOptional<z.ZodString>;
      }).default({}),
      /** Directory of the node's LXC configs. @default "/etc/pve/nodes/<node>/lxc" */
      lxcConfDir: z.string().min(1).optional(),
      /** Root of the host file system: /dev and /proc for node facts, /etc and /sys for host setup. @default "/" */
      hostRoot: z.string().min(1).optional(),
      /** Extra environment for every tool. */
      env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'environment names are upper-case'), z.string()).default({}),
      /** Upper bound for one tool call, seconds. @default 900 */
      timeoutSeconds: secondsSchema.default(900),
    })
    .default({ paths: {}, env: {}, timeoutSeconds: 900 }),
  journal: z
    .strictObject({
      /** @default "/var/lib/phoenix-agent" */
      dir: z.string().min(1).default('/var/lib/phoenix-agent'),
      /** Finished operations older than this are pruned. @default 168 (7 days) */
      retentionHours: z.number().positive().default(168),
    })
    .default({ dir: '/var/lib/phoenix-agent', retentionHours: 168 }),
  telemetry: z
    .strictObject({
      nodeIntervalSeconds: secondsSchema.default(TELEMETRY_INTERVAL_SECONDS.node),
      gpuIntervalSeconds: secondsSchema.default(TELEMETRY_INTERVAL_SECONDS.gpu),
      guestsIntervalSeconds: secondsSchema.default(TELEMETRY_INTERVAL_SECONDS.guests),
      /** Storages come from `pvesm status`, which is slow: sample them less often. @default 60 */
      storageIntervalSeconds: secondsSchema.default(TELEMETRY_INTERVAL_SECONDS.storage),
      /** @default 5; coordinators call a node down after three missed heartbeats. */
      heartbeatIntervalSeconds: secondsSchema.default(HEARTBEAT_INTERVAL_SECONDS),
    })
    .default({
      nodeIntervalSeconds: TELEMETRY_INTERVAL_SECONDS.node,
      gpuIntervalSeconds: TELEMETRY_INTERVAL_SECONDS.gpu,
      guestsIntervalSeconds: TELEMETRY_INTERVAL_SECONDS.guests,
      storageIntervalSeconds: TELEMETRY_INTERVAL_SECONDS.storage,
      heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS,
    }),
  metrics: z
    .strictObject({
      /** Prometheus `/metrics` address; `false` turns the endpoint off. @default "127.0.0.1:9464" */
      listen: z.union([hostPortSchema, z.literal(false)]).default('127.0.0.1:9464'),
    })
    .default({ listen: '127.0.0.1:9464' }),
  labels: z
    .record(z.string().regex(/^[a-z][a-z0-9_./-]{0,62}$/, 'label keys are lower-case words'), z.string().max(256))
    .default({}),
  /** How long running operations may take to finish after SIGTERM before they are cancelled. @default 20 */
  shutdownGraceSeconds: secondsSchema.default(20),
  /** How long an operation waits for another one on the same guest before it is refused as BUSY. @default 30 */
  lockWaitSeconds: z.number().nonnegative().default(30),
  log: z
    .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info') })
    .default({ level: 'info' }),
});

export type AgentConfigInput = z.input<typeof agentConfigSchema>;
export type AgentConfig = z.output<typeof agentConfigSchema>;

/** Record-valued fields whose keys are taken verbatim from environment overrides. */
export const RECORD_FIELDS: readonly string[] = ['tools.env', 'labels'];
