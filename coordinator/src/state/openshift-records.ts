/** What the leader records of each OpenShift cluster's install, in the `phoenix_openshift` bucket. */
import { z } from 'zod';
import { buckets } from '@phoenix/shared';
import type { StateStore } from './store.js';
import { kvKey } from './keys.js';
import type { TypedBucket } from './bucket.js';

export const openshiftRecordSchema = z.strictObject({
  cluster: z.string(),
  state: z.enum(['installing', 'installed', 'failed']),
  /** Guest ids of its VMs. */
  guests: z.array(z.string()),
  /** Nodes holding its agent ISO. */
  nodes: z.array(z.string()),
  isoVolume: z.string(),
  isoSha256: z.string().optional(),
  /** Installer stage reached last (e.g. "Bootstrap is complete"). */
  stage: z.string().optional(),
  apiUrl: z.string().optional(),
  consoleUrl: z.string().optional(),
  /** Where its kubeconfig and kubeadmin password are stored. */
  credentials: z.strictObject({ store: z.enum(['kv', 'vault']), path: z.string() }).optional(),
  error: z.string().optional(),
  updatedAt: z.string(),
});
export type OpenShiftRecord = z.infer<typeof openshiftRecordSchema>;

export const openshiftRecordKey = (cluster: string): string => kvKey('cluster', cluster);

export function openshiftRecords(store: StateStore): TypedBucket<OpenShiftRecord> {
  return store.bucket(buckets.openshift, openshiftRecordSchema);
}

/** Every record, by cluster name. */
export async function readOpenShiftRecords(store: StateStore): Promise<Map<string, OpenShiftRecord>> {
  const list = await openshiftRecords(store).list('cluster.>');
  return new Map(list.map((e) => [e.value.cluster, e.value]));
}

export type OpenShiftRecordFields = Omit<OpenShiftRecord, 'updatedAt'>;

/** Compare-and-set update of a cluster's record; `undefined` fields are dropped. */
export async function updateOpenShiftRecord(store: StateStore, cluster: string, fn: (r: OpenShiftRecordFields) => OpenShiftRecordFields): Promise<void> {
  await openshiftRecords(store).update(openshiftRecordKey(cluster), (cur) => {
    const base: OpenShiftRecordFields = cur?.value ?? { cluster, state: 'installing', guests: [], nodes: [], isoVolume: '' };
    const next = Object.fromEntries(Object.entries(fn(base)).filter(([, v]) => v !== undefined)) as OpenShiftRecordFields;
    return { ...next, updatedAt: new Date().toISOString() };
  });
}
