/** Runs named steps: emits started, then done/skipped/failed, and collects the changed ones. */
import type { PipelineEvent } from './types.js';
import { throwIfAborted } from './retry.js';

export interface StepOutcome {
  changed: boolean;
  message: string;
  /** Report as skipped (nothing to do). */
  skipped?: boolean;
}

export interface StepContext {
  log(line: string, stderr?: boolean): void;
  progress(percent: number, message: string): void;
}

export class StepRunner {
  readonly changedSteps: string[] = [];

  constructor(
    private readonly emit: (e: PipelineEvent) => void,
    private readonly signal: AbortSignal | undefined,
  ) {}

  get changed(): boolean {
    return this.changedSteps.length > 0;
  }

  /** A step that was not needed at all. */
  skip(step: string, message: string): void {
    this.emit({ step, state: 'skipped', message, changed: false });
  }

  async run(step: string, startMessage: string, fn: (ctx: StepContext) => Promise<StepOutcome>): Promise<StepOutcome> {
    throwIfAborted(this.signal);
    this.emit({ step, state: 'started', message: startMessage, changed: false });
    const ctx: StepContext = {
      log: (line, stderr = false) => this.emit({ step, state: 'started', message: '', changed: false, log: { line, stderr } }),
      progress: (percent, message) => this.emit({ step, state: 'started', message, changed: false, percent }),
    };
    let outcome: StepOutcome;
    try {
      outcome = await fn(ctx);
    } catch (err) {
      this.emit({ step, state: 'failed', message: err instanceof Error ? err.message : String(err), changed: false });
      throw err;
    }
    if (outcome.changed && !this.changedSteps.includes(step)) this.changedSteps.push(step);
    this.emit({
      step,
      state: outcome.skipped ? 'skipped' : 'done',
      message: outcome.message,
      changed: outcome.changed,
      ...(outcome.skipped ? {} : { percent: 100 }),
    });
    return outcome;
  }
}
