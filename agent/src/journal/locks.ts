/**
 * One lock per guest (or other resource key). A second operation waits in line up to a bound and
 * is then refused as BUSY, naming the operation that holds the lock.
 */
import { BusyError } from '@phoenix/shared';

/** Who holds a lock: an operation id, and how to name it in a BUSY message. */
export interface LockHolder {
  id: string;
  label: string;
}

interface Waiter {
  holder: LockHolder;
  grant(): void;
}

interface Entry {
  holder: LockHolder;
  queue: Waiter[];
}

export interface AcquireOptions {
  holder: LockHolder;
  waitMs: number;
  signal?: AbortSignal;
}

export class LockTable {
  private readonly held = new Map<string, Entry>();

  /** Current holder of `key`, if any. */
  holderOf(key: string): LockHolder | undefined {
    return this.held.get(key)?.holder;
  }

  /**
   * Takes every key (in sorted order, so two multi-key operations cannot deadlock) and returns
   * the release function. All or nothing: on a timeout or abort the keys already taken are released.
   */
  async acquire(keys: readonly string[], options: AcquireOptions): Promise<() => void> {
    const sorted = [...new Set(keys)].sort();
    const deadline = Date.now() + options.waitMs;
    const taken: string[] = [];
    try {
      for (const key of sorted) {
        await this.acquireOne(key, options.holder, deadline - Date.now(), options.signal);
        taken.push(key);
      }
    } catch (err) {
      for (const key of taken.reverse()) this.release(key);
      throw err;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const key of taken.reverse()) this.release(key);
    };
  }

  private acquireOne(key: string, holder: LockHolder, waitMs: number, signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    const entry = this.held.get(key);
    if (!entry) {
      this.held.set(key, { holder, queue: [] });
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const i = entry.queue.indexOf(waiter);
        if (i >= 0) entry.queue.splice(i, 1);
      };
      const waiter: Waiter = {
        holder,
        grant: () => {
          cleanup();
          resolve();
        },
      };
      const timer = setTimeout(() => {
        cleanup();
        const current = this.held.get(key)?.holder;
        reject(
          new BusyError(`${key} is busy with ${current?.label ?? 'another operation'}; gave up after ${Math.round(waitMs)} ms`, {
            details: { key, holder: current?.id },
          }),
        );
      }, Math.max(0, waitMs));
      const onAbort = (): void => {
        cleanup();
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      entry.queue.push(waiter);
    });
  }

  private release(key: string): void {
    const entry = this.held.get(key);
    if (!entry) return;
    const next = entry.queue.shift();
    if (!next) {
      this.held.delete(key);
      return;
    }
    entry.holder = next.holder;
    next.grant();
  }
}
