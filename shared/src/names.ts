/** NATS subjects and KV bucket names: the one place they are spelled. */
import { nodeNameSchema, parseOrThrow } from './validators.js';
import { z } from 'zod';

export const clusterNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'cluster name: lower-case letters, digits, -');

export const TELEMETRY_KINDS = ['node', 'gpu', 'guests'] as const;
export type TelemetryKind = (typeof TELEMETRY_KINDS)[number];

export const subjects = {
  telemetry(cluster: string, node: string, kind: TelemetryKind): string {
    return `phoenix.telemetry.${token(clusterNameSchema, cluster, 'cluster')}.${token(nodeNameSchema, node, 'node')}.${kind}`;
  },
  /** Wildcard over every node's telemetry of a cluster. */
  telemetryAll(cluster: string): string {
    return `phoenix.telemetry.${token(clusterNameSchema, cluster, 'cluster')}.>`;
  },
  health(cluster: string, node: string): string {
    return `phoenix.health.${token(clusterNameSchema, cluster, 'cluster')}.${token(nodeNameSchema, node, 'node')}`;
  },
  healthAll(cluster: string): string {
    return `phoenix.health.${token(clusterNameSchema, cluster, 'cluster')}.*`;
  },
  /** Request/reply: a coordinator reveals a secret Phoenix created, sealed to the asker's one-time key. */
  reveal(cluster: string): string {
    return `phoenix.reveal.${token(clusterNameSchema, cluster, 'cluster')}`;
  },
  events(cluster: string, kind: string): string {
    return `phoenix.events.${token(clusterNameSchema, cluster, 'cluster')}.${kind}`;
  },
};

export const buckets = {
  specs: 'phoenix_specs',
  placements: 'phoenix_placements',
  alloc: 'phoenix_alloc',
  leases: 'phoenix_leases',
  nodes: 'phoenix_nodes',
  /** Apply journal: per run and per step, who started what and whether it finished. */
  journal: 'phoenix_journal',
  /** Secrets sealed to the coordinators' public key (pull secrets, kubeconfigs, passwords). */
  secrets: 'phoenix_secrets',
  /** OpenShift installs: per cluster, its state, the nodes holding its agent ISO, its URLs. */
  openshift: 'phoenix_openshift',
} as const;

export type BucketName = (typeof buckets)[keyof typeof buckets];

function token(schema: z.ZodType<string>, value: string, field: string): string {
  return parseOrThrow(schema, value, field);
}
