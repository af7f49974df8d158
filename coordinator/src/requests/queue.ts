/**
 * The requests the leader has to look at, followed by a KV watch on the request keys: the watch
 * delivers every live request once, then each new one as it is written, and drops deleted ones.
 * Nothing is polled and nothing listed again.
 */
import type { Logger } from '@phoenix/shared';
import { kvPrefix, type StateStore, type Versioned } from '../state/index.js';
import { requestBucket, type ApplyRequest } from './requests.js';

export class RequestQueue {
  readonly #requests = new Map<string, Versioned<ApplyRequest>>();
  #watch: { stop(): void } | undefined;

  /** `onChange` runs after each change; it should look at `oldestFirst()` again. */
  constructor(
    private readonly store: StateStore,
    private readonly onChange: () => void,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.#watch = await requestBucket(this.store).watch(
      kvPrefix('request'),
      ({ key, value, revision }) => {
        if (value) this.#requests.set(key, { key, value, revision });
        else this.#requests.delete(key);
        this.onChange();
      },
      (err) => this.logger.warn({ err }, 'request watch: entry skipped'),
    );
  }

  stop(): void {
    this.#watch?.stop();
    this.#watch = undefined;
    this.#requests.clear();
  }

  /** Every known request, oldest first. */
  oldestFirst(): Versioned<ApplyRequest>[] {
    return [...this.#requests.values()].sort((a, b) => a.value.createdAt.localeCompare(b.value.createdAt));
  }
}
