/**
 * The error taxonomy. One class per failure class, each with a stable machine code, a retryable
 * flag and the standard `cause`. The single table ERROR_CLASSES maps every code to a gRPC status and
 * a CLI exit code, so the edges (gRPC handlers, the CLI) never decide this on their own.
 */

/**
 * gRPC status codes as the gRPC protocol numbers them (doc/statuscodes.md), kept here so that
 * errors, which every program loads, do not pull in the gRPC library (the CLI's start-up).
 */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** CLI exit codes: 0 ok, 1 failed, 2 usage or invalid input, 3 partially applied. */
export const ExitCode = { OK: 0, FAILED: 1, INVALID: 2, PARTIAL: 3 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

interface ErrorClassInfo {
  readonly grpc: GrpcStatus;
  readonly exit: ExitCode;
  readonly retryable: boolean;
}

/** The one mapping table: stable code → gRPC status, CLI exit code, retryable. */
export const ERROR_CLASSES = {
  INVALID_ARGUMENT: { grpc: GrpcStatus.INVALID_ARGUMENT, exit: ExitCode.INVALID, retryable: false },
  NOT_FOUND: { grpc: GrpcStatus.NOT_FOUND, exit: ExitCode.FAILED, retryable: false },
  ALREADY_EXISTS: { grpc: GrpcStatus.ALREADY_EXISTS, exit: ExitCode.FAILED, retryable: false },
  LOCKED: { grpc: GrpcStatus.FAILED_PRECONDITION, exit: ExitCode.FAILED, retryable: true },
  BUSY: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, exit: ExitCode.FAILED, retryable: true },
  FAILED_PRECONDITION: { grpc: GrpcStatus.FAILED_PRECONDITION, exit: ExitCode.FAILED, retryable: false },
  CONFLICT: { grpc: GrpcStatus.ABORTED, exit: ExitCode.FAILED, retryable: true },
  TIMEOUT: { grpc: GrpcStatus.DEADLINE_EXCEEDED, exit: ExitCode.FAILED, retryable: true },
  CANCELLED: { grpc: GrpcStatus.CANCELLED, exit: ExitCode.FAILED, retryable: true },
  UNAVAILABLE: { grpc: GrpcStatus.UNAVAILABLE, exit: ExitCode.FAILED, retryable: true },
  NODE_DOWN: { grpc: GrpcStatus.UNAVAILABLE, exit: ExitCode.FAILED, retryable: true },
  UNAUTHENTICATED: { grpc: GrpcStatus.UNAUTHENTICATED, exit: ExitCode.FAILED, retryable: false },
  PERMISSION_DENIED: { grpc: GrpcStatus.PERMISSION_DENIED, exit: ExitCode.FAILED, retryable: false },
  NO_CAPACITY: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, exit: ExitCode.FAILED, retryable: false },
  COMMAND_FAILED: { grpc: GrpcStatus.INTERNAL, exit: ExitCode.FAILED, retryable: false },
  PARTIALLY_APPLIED: { grpc: GrpcStatus.ABORTED, exit: ExitCode.PARTIAL, retryable: true },
  /** A mutating call carried a fencing token older than the newest one the agent has seen. */
  STALE_LEADER: { grpc: GrpcStatus.FAILED_PRECONDITION, exit: ExitCode.FAILED, retryable: false },
  /** The agent stopped (crash, kill, restart) while the operation ran; retry with the same key. */
  INTERRUPTED: { grpc: GrpcStatus.ABORTED, exit: ExitCode.FAILED, retryable: true },
  INTERNAL: { grpc: GrpcStatus.INTERNAL, exit: ExitCode.FAILED, retryable: false },
} as const satisfies Record<string, ErrorClassInfo>;

export type ErrorCode = keyof typeof ERROR_CLASSES;

export interface PhoenixErrorOptions {
  cause?: unknown;
  /** Structured facts for logs and the CLI (never secrets). */
  details?: Record<string, unknown>;
}

/** Base of every typed error. `code` is stable and safe to match on; messages are for people. */
export abstract class PhoenixError extends Error {
  abstract readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(message: string, options: PhoenixErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
  }

  get retryable(): boolean {
    return ERROR_CLASSES[this.code].retryable;
  }
  get grpcStatus(): GrpcStatus {
    return ERROR_CLASSES[this.code].grpc;
  }
  get exitCode(): ExitCode {
    return ERROR_CLASSES[this.code].exit;
  }
}

/** Bad input: names the field and the value. Nothing has been changed. */
export class InvalidArgumentError extends PhoenixError {
  readonly code = 'INVALID_ARGUMENT';
  readonly field: string;
  constructor(field: string, value: unknown, reason: string, options: PhoenixErrorOptions = {}) {
    super(`${field}: ${reason} (got ${formatValue(value)})`, {
      ...options,
      details: { field, ...options.details },
    });
    this.field = field;
  }
}
export class NotFoundError extends PhoenixError {
  readonly code = 'NOT_FOUND';
}
export class AlreadyExistsError extends PhoenixError {
  readonly code = 'ALREADY_EXISTS';
}
/** A Proxmox config lock or one of our guest locks is held; retry later. */
export class LockedError extends PhoenixError {
  readonly code = 'LOCKED';
}
/** Another operation is running on the same guest. */
export class BusyError extends PhoenixError {
  readonly code = 'BUSY';
}
export class FailedPreconditionError extends PhoenixError {
  readonly code = 'FAILED_PRECONDITION';
}
/** Compare-and-set lost a race; re-read and retry. */
export class ConflictError extends PhoenixError {
  readonly code = 'CONFLICT';
}
export class TimeoutError extends PhoenixError {
  readonly code = 'TIMEOUT';
}
export class CancelledError extends PhoenixError {
  readonly code = 'CANCELLED';
}
export class UnavailableError extends PhoenixError {
  readonly code = 'UNAVAILABLE';
}
export class NodeDownError extends PhoenixError {
  readonly code = 'NODE_DOWN';
}
export class UnauthenticatedError extends PhoenixError {
  readonly code = 'UNAUTHENTICATED';
}
export class PermissionDeniedError extends PhoenixError {
  readonly code = 'PERMISSION_DENIED';
}
export class NoCapacityError extends PhoenixError {
  readonly code = 'NO_CAPACITY';
}
/** An external tool failed in a way we have no better class for. */
export class CommandFailedError extends PhoenixError {
  readonly code = 'COMMAND_FAILED';
}
/** Some changes were applied and some were not. */
export class PartiallyAppliedError extends PhoenixError {
  readonly code = 'PARTIALLY_APPLIED';
}
/** The caller acted on a deposed leader's lease: its fencing token is older than one already seen. */
export class StaleLeaderError extends PhoenixError {
  readonly code = 'STALE_LEADER';
}
/** The operation was cut short by an agent restart; a retry with the same key converges. */
export class InterruptedError extends PhoenixError {
  readonly code = 'INTERRUPTED';
}
export class InternalError extends PhoenixError {
  readonly code = 'INTERNAL';
}

const BY_CODE: Record<ErrorCode, new (message: string, options?: PhoenixErrorOptions) => PhoenixError> = {
  INVALID_ARGUMENT: class extends PhoenixError {
    readonly code = 'INVALID_ARGUMENT';
  },
  NOT_FOUND: NotFoundError,
  ALREADY_EXISTS: AlreadyExistsError,
  LOCKED: LockedError,
  BUSY: BusyError,
  FAILED_PRECONDITION: FailedPreconditionError,
  CONFLICT: ConflictError,
  TIMEOUT: TimeoutError,
  CANCELLED: CancelledError,
  UNAVAILABLE: UnavailableError,
  NODE_DOWN: NodeDownError,
  UNAUTHENTICATED: UnauthenticatedError,
  PERMISSION_DENIED: PermissionDeniedError,
  NO_CAPACITY: NoCapacityError,
  COMMAND_FAILED: CommandFailedError,
  PARTIALLY_APPLIED: PartiallyAppliedError,
  STALE_LEADER: StaleLeaderError,
  INTERRUPTED: InterruptedError,
  INTERNAL: InternalError,
};

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CLASSES, value);
}

/** Rebuilds a typed error from a code received over the wire (gRPC trailer `phoenix-error-code`). */
export function errorFromCode(code: string, message: string, options: PhoenixErrorOptions = {}): PhoenixError {
  const ctor = isErrorCode(code) ? BY_CODE[code] : InternalError;
  return new ctor(message, options);
}

export function isPhoenixError(err: unknown): err is PhoenixError {
  return err instanceof PhoenixError;
}

/** Exit code for any thrown value: typed errors use the table, anything else is a plain failure. */
export function exitCodeOf(err: unknown): ExitCode {
  return isPhoenixError(err) ? err.exitCode : ExitCode.FAILED;
}

/** A value for an error message: JSON; other than strings, at most 120 characters. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 120 ? `${text.slice(0, 117)}...` : text;
  } catch {
    return String(value);
  }
}
