/**
 * What the CLI asks of the cluster, recorded in the specs bucket: the desired spec (YAML text) and
 * requests (apply, delete a guest, destroy everything), each one an apply run that the leader
 * executes and journals. Events of a run are published on `phoenix.events.<cluster>.apply`.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { buckets, type agentv1 } from '@phoenix/shared';
import type { StateStore } from '../state/index.js';
import { kvKey } from '../state/index.js';

export const specRecordSchema = z.object({
  yaml: z.string(),
  /** Application scripts the spec names, read beside the spec file: name → content. */
  files: z.record(z.string(), z.string()).default({}),
  submittedAt: z.string(),
  submittedBy: z.string(),
});
export type SpecRecord = z.infer<typeof specRecordSchema>;

export const requestSchema = z.object({
  runId: z.string().regex(/^[a-z0-9-]+$/),
  kind: z.enum(['apply', 'delete', 'destroy']),
  /** Guest name for `delete`. */
  guest: z.string().optional(),
  /** OpenShift cluster for `delete`: its VMs, ISOs, credentials and install record. */
  cluster: z.string().optional(),
  /** Revision of the spec record the request was made against. */
  specRevision: z.number().int().nonnegative(),
  createdAt: z.string(),
  createdBy: z.string(),
});
export type ApplyRequest = z.infer<typeof requestSchema>;

export const SPEC_KEY = kvKey('spec', 'current');
export const requestKey = (runId: string): string => kvKey('request', runId);

export function specBucket(store: StateStore) {
  return store.bucket(buckets.specs, specRecordSchema);
}
export function requestBucket(store: StateStore) {
  return store.bucket(buckets.specs, requestSchema);
}

/** Stores the spec (compare-and-set on the current revision) and a request to act on it. */
export async function submitRequest(
  store: StateStore,
  kind: ApplyRequest['kind'],
  by: string,
  options: { yaml?: string; guest?: string; cluster?: string; files?: Record<string, string> } = {},
): Promise<ApplyRequest> {
  let specRevision: number;
  if (options.yaml !== undefined) {
    const yaml = options.yaml;
    const files = options.files ?? {};
    const written = await specBucket(store).update(SPEC_KEY, () => ({ yaml, files, submittedAt: new Date().toISOString(), submittedBy: by }));
    specRevision = written?.revision ?? 0;
  } else {
    specRevision = (await specBucket(store).get(SPEC_KEY))?.revision ?? 0;
  }
  const runId = `${kind}-${new Date().toISOString().replace(/[^0-9]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`;
  const request: ApplyRequest = {
    runId,
    kind,
    ...(options.guest ? { guest: options.guest } : {}),
    ...(options.cluster ? { cluster: options.cluster } : {}),
    specRevision,
    createdAt: new Date().toISOString(),
    createdBy: by,
  };
  await requestBucket(store).create(requestKey(runId), request);
  return request;
}

/** One line of a run's event stream. */
export interface RunEvent {
  runId: string;
  /** `cluster`: a step of an OpenShift install (guest is `openshift/<name>`). */
  type: 'plan' | 'start' | 'progress' | 'log' | 'done' | 'finished' | 'cluster';
  /** For 'cluster': the OpenShift host the line is about. */
  host?: string;
  guest?: string;
  node?: string;
  vmid?: number;
  step?: string;
  state?: string;
  message?: string;
  status?: string;
  changed?: boolean;
  error?: string;
  /** For 'finished': the run's final state. */
  runState?: string;
  time: string;
}

export type { agentv1 };
