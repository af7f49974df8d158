import type { State } from './state.js';

/** Where an injected mid-way fault strikes (implemented by faults.ts's FaultPlan). */
export interface Midpoint {
  midpoint(ctx: Ctx): Promise<void>;
}

/** Everything one invocation of an emulated tool needs. */
export class Ctx {
  /** Inside a task, stderr is merged into the task output, which goes to stdout. */
  inTask = false;
  warnings = 0;

  constructor(
    readonly state: State,
    readonly tool: string,
    readonly argv: string[],
    readonly faults: Midpoint,
  ) {}

  get node(): string {
    return this.state.node;
  }

  out(text: string): void {
    process.stdout.write(text);
  }

  /** Perl `print STDERR` / `warn`: to stderr, or into the task log (stdout) inside a task. */
  err(text: string): void {
    if (this.inTask) process.stdout.write(text);
    else process.stderr.write(text);
  }

  /** Always the real stderr (final task error, CLI errors). */
  stderr(text: string): void {
    process.stderr.write(text);
  }

  /** $rpcenv->warn: "WARN: ..." and counted for "Task finished with N warning(s)!". */
  warn(msg: string): void {
    this.warnings++;
    this.err(`WARN: ${msg.replace(/\n$/, '')}\n`);
  }

  /** Point in the middle of a long operation where an injected crash or hang happens. */
  async midpoint(): Promise<void> {
    await this.faults.midpoint(this);
  }
}
