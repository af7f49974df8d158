/**
 * Errors shaped like PVE's Perl exceptions (PVE::Exception) so they print exactly as the real
 * CLI prints them: "<code> <msg>\n", then "<param>: <message>\n" lines, then the usage line.
 */
export interface PveExceptionOptions {
  /** HTTP-style code; 400 marks a parameter exception. */
  code?: number;
  /** Per-parameter errors, in the order they were found. */
  errors?: Array<[string, string]>;
  /** Usage line appended by the CLI handler. */
  usage?: string;
  /** Process exit code when this error ends the command (255 = Perl `exit(-1)`/`die`). */
  exitCode?: number;
  cause?: unknown;
}

export class PveException extends Error {
  readonly code: number | undefined;
  errors: Array<[string, string]> | undefined;
  usage: string | undefined;
  readonly exitCode: number;

  constructor(msg: string, opts: PveExceptionOptions = {}) {
    super(msg, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PveException';
    this.code = opts.code;
    this.errors = opts.errors;
    this.usage = opts.usage;
    this.exitCode = opts.exitCode ?? 255;
  }

  isParamExc(): boolean {
    return this.code === 400;
  }

  /** Same text as PVE::Exception::stringify. */
  stringify(): string {
    let msg = this.code ? `${this.code} ${this.message}` : this.message;
    if (!msg.endsWith('\n')) msg += '\n';
    for (const [k, v] of this.errors ?? []) msg += `${k}: ${v}\n`;
    if (this.usage) {
      msg += this.usage;
      if (!msg.endsWith('\n')) msg += '\n';
    }
    return msg;
  }
}

/** A plain Perl `die "...\n"`: the text is printed as is. */
export function die(msg: string, exitCode = 255): never {
  throw new PveException(msg.endsWith('\n') ? msg : `${msg}\n`, { exitCode });
}

/** `raise_param_exc({ param => msg })`. */
export function raiseParamExc(errors: Array<[string, string]>): never {
  throw new PveException('Parameter verification failed.\n', { code: 400, errors });
}

/** A 400 error with its own message, e.g. "not enough arguments". */
export function raise400(msg: string): never {
  throw new PveException(msg.endsWith('\n') ? msg : `${msg}\n`, { code: 400 });
}

/** Text of any thrown value as Perl would print it from `$@`. */
export function errorText(err: unknown): string {
  if (err instanceof PveException) return err.stringify();
  if (err instanceof Error) return err.message.endsWith('\n') ? err.message : `${err.message}\n`;
  const s = String(err);
  return s.endsWith('\n') ? s : `${s}\n`;
}

/** Internal failure of the emulator itself (not something PVE would print). */
export class EmulatorError extends Error {
  readonly errCode: string;
  constructor(errCode: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'EmulatorError';
    this.errCode = errCode;
  }
}
