/** Abortable sleeping and bounded retries with exponential backoff. */
import { CancelledError } from '@phoenix/shared';

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new CancelledError('cancelled', { cause: signal.reason }));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new CancelledError('cancelled', { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError('operation cancelled', { cause: signal.reason });
}

/**
 * Runs `fn` up to `attempts` times, waiting backoffMs, 2×, 4× … between failures. `retryable`
 * decides whether an error is worth another attempt; the last error is thrown.
 */
export async function withRetries<T>(
  attempts: number,
  backoffMs: number,
  fn: (attempt: number) => Promise<T>,
  opts: { signal?: AbortSignal; retryable?: (err: unknown) => boolean; onRetry?: (err: unknown, attempt: number, waitMs: number) => void } = {},
): Promise<T> {
  let last: unknown;
  for (let attempt = 1; attempt <= Math.max(1, attempts); attempt++) {
    throwIfAborted(opts.signal);
    try {
      return await fn(attempt);
    } catch (err) {
      last = err;
      if (err instanceof CancelledError) throw err;
      if (attempt >= attempts || (opts.retryable && !opts.retryable(err))) throw err;
      const wait = backoffMs * 2 ** (attempt - 1);
      opts.onRetry?.(err, attempt, wait);
      await sleep(wait, opts.signal);
    }
  }
  throw last;
}
