/**
 * Fencing: the highest `fencing_token` (the coordinator leader lease revision) seen so far, kept
 * on disk. A mutating call with a lower non-zero token comes from a deposed leader and is refused,
 * even across agent restarts. Token 0 means "not fenced" (an operator's direct call).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StaleLeaderError } from '@phoenix/shared';
import { writeFileDurable } from './durable-file.js';

export class FencingGuard {
  private highest: number;
  private persisting: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    highest: number,
  ) {
    this.highest = highest;
  }

  static async open(dir: string): Promise<FencingGuard> {
    const file = join(dir, 'fencing.json');
    let highest = 0;
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { highest?: unknown };
      if (typeof parsed.highest === 'number' && Number.isSafeInteger(parsed.highest)) highest = parsed.highest;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return new FencingGuard(file, highest);
  }

  get highestSeen(): number {
    return this.highest;
  }

  /** Refuses a stale token; a newer one is on disk before this resolves. */
  async admit(token: number): Promise<void> {
    if (token === 0) return;
    if (token < this.highest) {
      throw new StaleLeaderError(
        `fencing token ${token} is older than ${this.highest}: the caller no longer holds the leader lease`,
        { details: { token, highest: this.highest } },
      );
    }
    if (token === this.highest) return;
    this.highest = token;
    const write = this.persisting.then(() => writeFileDurable(this.file, `${JSON.stringify({ highest: this.highest })}\n`));
    this.persisting = write.catch(() => undefined);
    await write;
  }
}
