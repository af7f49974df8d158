/**
 * The operation journal on local disk: one JSON file per operation under `<dir>/operations/`,
 * replaced atomically and fsync'd (file and directory) at every phase change. The running record is
 * on disk before the operation touches the node, so a crash always leaves a trace to recover from.
 */
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@phoenix/shared';
import { syncDirectory, writeFileDurable } from './durable-file.js';

export type OperationPhase = 'running' | 'succeeded' | 'failed' | 'interrupted';

export interface OperationRecord {
  version: 1;
  id: string;
  /** Client idempotency key. */
  key: string;
  /** RPC name, e.g. `EnsureGuest`. */
  kind: string;
  /** Guest the operation acts on; 0 when it is not about one guest. */
  vmid: number;
  phase: OperationPhase;
  /** Who asked, as the client said (`OperationContext.requester`). */
  requester: string;
  /** Verified caller identity, `role/name` from the client certificate. */
  caller: string;
  fencingToken: number;
  /** Digest of the request (without its context): a key reused for another request is refused. */
  requestDigest: string;
  /** 1 for the first run; a retry of an interrupted or retryably failed key runs again. */
  attempt: number;
  startedAt: string;
  finishedAt?: string;
  /** `OperationResult` in proto3 JSON. */
  result?: unknown;
  /** The unary response in proto3 JSON, replayed for retries. */
  response?: unknown;
  /** Interrupted and not yet handed to the pipeline's recovery. */
  needsRecovery?: boolean;
}

export class OperationJournal {
  private readonly byKey = new Map<string, OperationRecord>();
  /** Serialises writes per operation so phase changes land in order. */
  private readonly writes = new Map<string, Promise<void>>();

  private constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  /**
   * Loads every record. Records still `running` belong to an agent that died: they become
   * `interrupted` (with `needsRecovery`) before anything else can run.
   */
  static async open(dir: string, log: Logger): Promise<OperationJournal> {
    const opsDir = join(dir, 'operations');
    await mkdir(opsDir, { recursive: true, mode: 0o700 });
    const journal = new OperationJournal(opsDir, log);
    for (const name of await readdir(opsDir)) {
      if (name.startsWith('.') && name.endsWith('.tmp')) {
        await unlink(join(opsDir, name)).catch(() => undefined);
        continue;
      }
      if (!name.endsWith('.json')) continue;
      let record: OperationRecord;
      try {
        record = JSON.parse(await readFile(join(opsDir, name), 'utf8')) as OperationRecord;
      } catch (err) {
        log.error({ err, file: name }, 'unreadable journal record skipped');
        continue;
      }
      const existing = journal.byKey.get(record.key);
      if (existing && existing.startedAt > record.startedAt) continue;
      journal.byKey.set(record.key, record);
    }
    for (const record of journal.byKey.values()) {
      if (record.phase !== 'running') continue;
      await journal.put({
        ...record,
        phase: 'interrupted',
        finishedAt: new Date().toISOString(),
        needsRecovery: true,
        result: {
          ok: false,
          errorCode: 'INTERRUPTED',
          errorMessage: 'the agent stopped while the operation ran; retry with the same key',
        },
      });
    }
    return journal;
  }

  get(key: string): OperationRecord | undefined {
    return this.byKey.get(key);
  }

  list(filter: { onlyUnfinished?: boolean } = {}): OperationRecord[] {
    const all = [...this.byKey.values()];
    const selected = filter.onlyUnfinished ? all.filter((r) => r.phase === 'running' || r.phase === 'interrupted') : all;
    return selected.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  /** Records still waiting for the pipeline's recovery (interrupted by a crash or by shutdown). */
  needingRecovery(): OperationRecord[] {
    return this.list().filter((r) => r.needsRecovery === true);
  }

  /** Writes `record` durably and makes it the current record of its key. */
  async put(record: OperationRecord): Promise<void> {
    const previous = this.byKey.get(record.key);
    this.byKey.set(record.key, record);
    const file = join(this.dir, `${record.id}.json`);
    const prior = this.writes.get(record.id) ?? Promise.resolve();
    const write = prior.then(() => writeFileDurable(file, `${JSON.stringify(record)}\n`));
    this.writes.set(record.id, write.catch(() => undefined));
    await write;
    // A re-run under the same key gets a new id; the superseded file goes.
    if (previous && previous.id !== record.id) await this.removeFile(previous.id);
  }

  /** Drops finished records older than `maxAgeMs`. */
  async prune(maxAgeMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    for (const record of [...this.byKey.values()]) {
      if (record.phase === 'running' || record.needsRecovery) continue;
      const at = Date.parse(record.finishedAt ?? record.startedAt);
      if (now - at < maxAgeMs) continue;
      this.byKey.delete(record.key);
      await this.removeFile(record.id);
      removed++;
    }
    if (removed > 0) this.log.info({ removed }, 'pruned finished operations from the journal');
    return removed;
  }

  private async removeFile(id: string): Promise<void> {
    await unlink(join(this.dir, `${id}.json`)).catch(() => undefined);
    await syncDirectory(this.dir);
  }
}
