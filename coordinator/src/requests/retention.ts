/**
 * Requests of finished runs are deleted once the run has been finished for the retention period,
 * so the specs bucket holds what is pending and recent, not every request ever made. The run's
 * journal stays; only the request goes.
 */
import type { ApplyJournal, StateStore, Versioned } from '../state/index.js';
import { requestBucket, type ApplyRequest } from './requests.js';

/** Deletes the requests among `requests` whose run finished more than `retentionMs` before `now`; returns their run ids. */
export async function sweepFinishedRequests(
  store: StateStore,
  journal: ApplyJournal,
  requests: readonly Versioned<ApplyRequest>[],
  retentionMs: number,
  now = Date.now(),
): Promise<string[]> {
  const bucket = requestBucket(store);
  const swept: string[] = [];
  for (const r of requests) {
    const run = await journal.getRun(r.value.runId);
    if (!run || run.state === 'running') continue;
    if (now - Date.parse(run.updatedAt) <= retentionMs) continue;
    // On the revision seen: a request rewritten meanwhile is left for the next sweep.
    await bucket.delete(r.key, { revision: r.revision }).then(
      () => swept.push(r.value.runId),
      () => undefined,
    );
  }
  return swept;
}
