import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import {
  ERROR_CLASSES,
  GrpcStatus,
  ExitCode,
  InvalidArgumentError,
  LockedError,
  ConflictError,
  PartiallyAppliedError,
  errorFromCode,
  exitCodeOf,
  isPhoenixError,
  NotFoundError,
} from './errors.js';

describe('errors - taxonomy', () => {
  it('maps each class through the one table', () => {
    const locked = new LockedError('CT is locked (create)');
    expect(locked.code).toBe('LOCKED');
    expect(locked.grpcStatus).toBe(status.FAILED_PRECONDITION);
    expect(locked.exitCode).toBe(ExitCode.FAILED);
    expect(locked.retryable).toBe(true);
    expect(new ConflictError('cas').grpcStatus).toBe(status.ABORTED);
    expect(new PartiallyAppliedError('2 of 3').exitCode).toBe(ExitCode.PARTIAL);
  });

  it('names the field and the value of bad input and exits 2', () => {
    const err = new InvalidArgumentError('containers.web.vmid', 'abc', 'must be a number');
    expect(err.message).toBe('containers.web.vmid: must be a number (got "abc")');
    expect(err.field).toBe('containers.web.vmid');
    expect(exitCodeOf(err)).toBe(2);
  });

  it('keeps the cause', () => {
    const root = new Error('exit 255');
    const err = new NotFoundError('no CT 100', { cause: root });
    expect(err.cause).toBe(root);
    expect(err.name).toBe('NotFoundError');
  });

  it('rebuilds typed errors from wire codes; unknown codes become INTERNAL', () => {
    for (const code of Object.keys(ERROR_CLASSES)) {
      const err = errorFromCode(code, 'x');
      expect(isPhoenixError(err)).toBe(true);
      expect(err.code).toBe(code);
    }
    expect(errorFromCode('NOPE', 'x').code).toBe('INTERNAL');
  });

  it('treats foreign errors as plain failures', () => {
    expect(exitCodeOf(new Error('boom'))).toBe(ExitCode.FAILED);
  });
});

describe('GrpcStatus', () => {
  it('numbers every code exactly as the gRPC library does', () => {
    const library = status as unknown as Record<string, number>;
    for (const [name, code] of Object.entries(GrpcStatus)) expect([name, code]).toEqual([name, library[name]]);
    expect(Object.keys(GrpcStatus).length).toBe(Object.keys(status).filter((k) => Number.isNaN(Number(k))).length);
  });
});
