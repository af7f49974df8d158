/** Typed errors of the guest module; `code` is stable, messages say what and where. */

export type GuestErrorCode =
  | 'EMU_GUEST_NOT_ROOT'
  | 'EMU_GUEST_TOOL_MISSING'
  | 'EMU_GUEST_ROOTFS_BUILD'
  | 'EMU_GUEST_ROOTFS_MISSING'
  | 'EMU_GUEST_PATH_ESCAPE'
  | 'EMU_GUEST_PATH_INVALID'
  | 'EMU_GUEST_NO_SUCH_FILE'
  | 'EMU_GUEST_EXEC_TIMEOUT'
  | 'EMU_GUEST_EXEC_FAILED';

export class GuestError extends Error {
  readonly code: GuestErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: GuestErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GuestError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** A command ran past its timeout; its whole process group was killed. Output so far is attached. */
export class GuestExecTimeoutError extends GuestError {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  constructor(argv: readonly string[], timeoutMs: number, stdout: Buffer, stderr: Buffer) {
    super('EMU_GUEST_EXEC_TIMEOUT', `guest command timed out after ${timeoutMs} ms: ${argv.join(' ')}`, {
      details: { argv: [...argv], timeoutMs },
    });
    this.name = 'GuestExecTimeoutError';
    this.stdout = stdout;
    this.stderr = stderr;
  }
}
