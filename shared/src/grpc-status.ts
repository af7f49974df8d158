/**
 * Crossing the gRPC edge in both directions with typed errors intact: the server puts the stable
 * code in the `phoenix-error-code` trailer, the client rebuilds the same class from it (or, for
 * failures that never reached our handler — TLS, deadline, connection — from the status code).
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  errorFromCode,
  isPhoenixError,
  type ErrorCode,
  type PhoenixError,
} from './errors.js';

export const ERROR_CODE_TRAILER = 'phoenix-error-code';

/** Status codes the library itself produces, mapped to our classes. */
const FROM_STATUS: Partial<Record<status, ErrorCode>> = {
  [status.UNAVAILABLE]: 'UNAVAILABLE',
  [status.DEADLINE_EXCEEDED]: 'TIMEOUT',
  [status.CANCELLED]: 'CANCELLED',
  [status.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [status.PERMISSION_DENIED]: 'PERMISSION_DENIED',
  [status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [status.NOT_FOUND]: 'NOT_FOUND',
  [status.ALREADY_EXISTS]: 'ALREADY_EXISTS',
  [status.FAILED_PRECONDITION]: 'FAILED_PRECONDITION',
  [status.ABORTED]: 'CONFLICT',
  [status.RESOURCE_EXHAUSTED]: 'BUSY',
};

/** Server side: the status object grpc-js sends for a thrown value. Unknown errors say nothing inside. */
export function toGrpcStatus(err: unknown): { code: status; details: string; metadata: Metadata } {
  const metadata = new Metadata();
  if (isPhoenixError(err)) {
    metadata.set(ERROR_CODE_TRAILER, err.code);
    return { code: err.grpcStatus, details: err.message, metadata };
  }
  metadata.set(ERROR_CODE_TRAILER, 'INTERNAL');
  return { code: status.INTERNAL, details: 'internal error', metadata };
}

/** Client side: a typed error for a failed call, keeping the ServiceError as `cause`. */
export function fromServiceError(err: ServiceError, what = 'call'): PhoenixError {
  const trailer = err.metadata?.get(ERROR_CODE_TRAILER)[0];
  const code = typeof trailer === 'string' ? trailer : (FROM_STATUS[err.code] ?? 'INTERNAL');
  const details = err.details || err.message;
  return errorFromCode(code, `${what}: ${details}`, { cause: err, details: { grpcStatus: err.code } });
}

export function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && 'code' in err && 'metadata' in err;
}
