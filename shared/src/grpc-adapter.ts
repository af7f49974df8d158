/**
 * The one adapter between grpc-js and our async handlers. grpc-js handlers are callback-style, and
 * an async handler that rejects crashes the process (unhandled rejection), so no handler is ever
 * registered directly: `adaptService` wraps every method of a service definition. It
 *  - authorises the caller before the handler runs,
 *  - turns a thrown or rejected value into a status (typed errors through the shared table with the
 *    `phoenix-error-code` trailer; anything else becomes INTERNAL with a generic message, logged),
 *  - turns client cancellation, a dropped connection and the call deadline into an AbortSignal,
 *  - gives streaming handlers a sink whose `write` waits for `drain` (backpressure).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  status,
  type Metadata,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { CancelledError, TimeoutError, isPhoenixError } from './errors.js';
import { toGrpcStatus } from './grpc-status.js';

export type CallType = 'unary' | 'server_stream';

export interface CallContext<Identity> {
  /** Method name as in the proto, e.g. `EnsureGuest`. */
  readonly method: string;
  readonly identity: Identity;
  readonly metadata: Metadata;
  readonly peer: string;
  /**
   * Aborted when the client cancels, the connection drops or the deadline passes. The reason is a
   * CancelledError or TimeoutError, so work that rethrows it yields the right status.
   */
  readonly signal: AbortSignal;
  readonly deadline: Date | undefined;
  /** Child logger bound to the method and peer. */
  readonly log: Logger;
}

/** Writes of a server stream. `write` resolves once the transport takes more; it rejects when the call is gone. */
export interface StreamSink<T> {
  write(message: T): Promise<void>;
}

export interface CallOutcome {
  service: string;
  method: string;
  type: CallType;
  code: status;
  seconds: number;
}

export type AuthorizableCall = Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext'>;

export interface AdapterOptions<Identity> {
  /** Fully qualified service name, for logs and metrics. */
  service: string;
  logger: Logger;
  /** Runs before every handler; throw (UnauthenticatedError, PermissionDeniedError) to refuse. */
  authorize(call: AuthorizableCall): Identity;
  /** Called when a call arrives, before authorisation (metrics). */
  onCallStart?(call: { service: string; method: string; type: CallType }): void;
  /** Called once per call with its final status (metrics). */
  onCallEnd?(outcome: CallOutcome): void;
}

interface MethodDefinitionLike {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(value: never): Buffer;
}

type RequestOf<M> = M extends { requestDeserialize(bytes: Buffer): infer R } ? R : never;
type ResponseOf<M> = M extends { responseSerialize(value: infer R): Buffer } ? R : never;

/** The async handlers of a service, typed from its generated definition. */
export type AsyncServiceImplementation<D, Identity> = {
  [K in keyof D]: D[K] extends { requestStream: true }
    ? never
    : D[K] extends { responseStream: true }
      ? (request: RequestOf<D[K]>, ctx: CallContext<Identity>, sink: StreamSink<ResponseOf<D[K]>>) => Promise<void>
      : (request: RequestOf<D[K]>, ctx: CallContext<Identity>) => Promise<ResponseOf<D[K]>>;
};

type AnyHandler = (request: unknown, ctx: CallContext<unknown>, sink?: StreamSink<unknown>) => Promise<unknown>;

/** Builds the grpc-js implementation of `definition` from async handlers, every one wrapped. */
export function adaptService<D extends Record<string, MethodDefinitionLike>, Identity>(
  definition: D,
  implementation: AsyncServiceImplementation<D, Identity>,
  options: AdapterOptions<Identity>,
): UntypedServiceImplementation {
  const result: UntypedServiceImplementation = {};
  for (const [key, method] of Object.entries(definition)) {
    if (method.requestStream) throw new TypeError(`${method.path}: client streaming is not supported by the adapter`);
    const handler = (implementation as Record<string, AnyHandler | undefined>)[key];
    if (typeof handler !== 'function') throw new TypeError(`${method.path}: no handler`);
    const name = method.path.slice(method.path.lastIndexOf('/') + 1);
    result[key] = method.responseStream
      ? wrapServerStream(name, handler, options)
      : wrapUnary(name, handler, options);
  }
  return result;
}

interface CallScope {
  signal: AbortSignal;
  deadline: Date | undefined;
  close(): void;
}

/** Clock skew and transport delay between the client's deadline timer and ours. */
const DEADLINE_SLACK_MS = 50;

type CancellableCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

/** Links the call's cancellation and deadline to an AbortController for the duration of the call. */
function openScope(call: CancellableCall, method: string): CallScope {
  const controller = new AbortController();
  const raw = call.getDeadline();
  const deadlineMs = raw instanceof Date ? raw.getTime() : raw;
  const onCancelled = (): void => {
    if (controller.signal.aborted) return;
    // The client gives up at its deadline too; a cancel that arrives then is the deadline expiring.
    const expired = Number.isFinite(deadlineMs) && Date.now() >= deadlineMs - DEADLINE_SLACK_MS;
    controller.abort(
      expired ? new TimeoutError(`${method}: deadline exceeded`) : new CancelledError(`${method}: cancelled by the client`),
    );
  };
  call.on('cancelled', onCancelled);
  if (call.cancelled) onCancelled();
  let timer: NodeJS.Timeout | undefined;
  let deadline: Date | undefined;
  if (Number.isFinite(deadlineMs)) {
    deadline = new Date(deadlineMs);
    timer = setTimeout(
      () => {
        if (!controller.signal.aborted) controller.abort(new TimeoutError(`${method}: deadline exceeded`));
      },
      Math.max(0, deadlineMs - Date.now()),
    );
  }
  return {
    signal: controller.signal,
    deadline,
    close() {
      if (timer) clearTimeout(timer);
      call.removeListener('cancelled', onCancelled);
    },
  };
}

/**
 * What a failure becomes on the wire. Work interrupted by the call's own cancellation reports the
 * cancellation, whatever the library threw; unknown errors are logged and answered generically.
 */
function failureStatus(
  err: unknown,
  signal: AbortSignal,
  log: Logger,
): { code: status; details: string; metadata: Metadata } {
  const effective = !isPhoenixError(err) && signal.aborted ? signal.reason : err;
  const result = toGrpcStatus(effective);
  if (isPhoenixError(effective)) {
    log.info({ code: effective.code, error: effective.message }, 'call failed');
  } else {
    const ref = randomUUID();
    log.error({ err, ref }, 'call failed with an unexpected error');
    result.details = `internal error (ref ${ref})`;
  }
  return result;
}

function contextFor<Identity>(
  call: CancellableCall,
  method: string,
  identity: Identity,
  scope: CallScope,
  log: Logger,
): CallContext<Identity> {
  return {
    method,
    identity,
    metadata: call.metadata,
    peer: call.getPeer(),
    signal: scope.signal,
    deadline: scope.deadline,
    log,
  };
}

function wrapUnary<Identity>(method: string, handler: AnyHandler, options: AdapterOptions<Identity>) {
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void => {
    const started = performance.now();
    options.onCallStart?.({ service: options.service, method, type: 'unary' });
    const scope = openScope(call, method);
    const log = options.logger.child({ method, peer: call.getPeer() });
    const run = async (): Promise<void> => {
      let code: status = status.OK;
      try {
        const identity = options.authorize(call);
        const response = await handler(call.request, contextFor(call, method, identity, scope, log) as CallContext<unknown>);
        callback(null, response);
      } catch (err) {
        const failure = failureStatus(err, scope.signal, log);
        code = failure.code;
        callback(failure);
      } finally {
        scope.close();
        options.onCallEnd?.({ service: options.service, method, type: 'unary', code, seconds: (performance.now() - started) / 1000 });
      }
    };
    run().catch((err: unknown) => log.error({ err }, 'unary adapter failed'));
  };
}

function wrapServerStream<Identity>(method: string, handler: AnyHandler, options: AdapterOptions<Identity>) {
  return (call: ServerWritableStream<unknown, unknown>): void => {
    const started = performance.now();
    options.onCallStart?.({ service: options.service, method, type: 'server_stream' });
    const scope = openScope(call, method);
    const log = options.logger.child({ method, peer: call.getPeer() });
    const sink: StreamSink<unknown> = { write: (message) => writeWithBackpressure(call, message, scope.signal) };
    const run = async (): Promise<void> => {
      let code: status = status.OK;
      try {
        const identity = options.authorize(call);
        await handler(call.request, contextFor(call, method, identity, scope, log) as CallContext<unknown>, sink);
        if (!call.cancelled) call.end();
      } catch (err) {
        const failure = failureStatus(err, scope.signal, log);
        code = failure.code;
        if (!call.cancelled && !call.writableEnded) call.emit('error', failure);
      } finally {
        scope.close();
        options.onCallEnd?.({
          service: options.service,
          method,
          type: 'server_stream',
          code,
          seconds: (performance.now() - started) / 1000,
        });
      }
    };
    run().catch((err: unknown) => log.error({ err }, 'stream adapter failed'));
  };
}

function writeWithBackpressure(call: ServerWritableStream<unknown, unknown>, message: unknown, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  if (call.write(message)) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      call.removeListener('drain', onDrain);
      signal.removeEventListener('abort', onAbort);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal.reason as Error);
    };
    call.once('drain', onDrain);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
