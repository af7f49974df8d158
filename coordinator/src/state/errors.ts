/**
 * State-layer errors and the mapping from NATS client errors to the shared taxonomy. New classes
 * extend an existing shared class so the single code table (gRPC status, exit code) still decides.
 */
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { PermissionViolationError } from '@nats-io/transport-node';
import {
  InternalError,
  PermissionDeniedError,
  UnavailableError,
  type PhoenixError,
  isPhoenixError,
} from '@phoenix/shared';

/** A stored value that is not JSON or fails its schema: someone wrote it outside this layer. */
export class CorruptValueError extends InternalError {
  readonly bucket: string;
  readonly key: string;
  readonly revision: number;
  constructor(bucket: string, key: string, revision: number, reason: string, cause: unknown) {
    super(`corrupt value in KV bucket ${bucket} key ${key} (revision ${revision}): ${reason}`, {
      cause,
      details: { bucket, kvKey: key, revision },
    });
    this.bucket = bucket;
    this.key = key;
    this.revision = revision;
  }
}

/** True for the server's compare-and-set rejection ("wrong last sequence"). */
export function isCasConflict(err: unknown): boolean {
  if (err instanceof JetStreamApiError) {
    return (
      err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown
    );
  }
  return false;
}

/** Wraps anything the NATS client threw as a typed error naming what was being done. */
export function natsFailure(err: unknown, action: string, bucket: string, key?: string): PhoenixError {
  if (isPhoenixError(err)) return err;
  const where = key === undefined ? `bucket ${bucket}` : `bucket ${bucket} key ${key}`;
  const message = err instanceof Error ? err.message : String(err);
  const details: Record<string, unknown> = { bucket, action };
  if (key !== undefined) details['kvKey'] = key;
  // JetStream API errors other than CAS conflicts are server-side refusals (limits, permissions);
  // everything else (timeouts, no responders, closed connection) means NATS is not reachable.
  if (err instanceof PermissionViolationError || (err instanceof Error && err.cause instanceof PermissionViolationError)) {
    return new PermissionDeniedError(`${action} denied on ${where}: ${message}`, { cause: err, details });
  }
  if (err instanceof JetStreamApiError) {
    return new InternalError(`${action} failed on ${where}: ${message}`, { cause: err, details: { ...details, apiCode: err.code } });
  }
  return new UnavailableError(`${action} failed on ${where}: ${message}`, { cause: err, details });
}
