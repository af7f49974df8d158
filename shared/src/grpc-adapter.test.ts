import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  Server,
  ServerCredentials,
  status,
  type Client,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { adaptService, type CallOutcome, type StreamSink } from './grpc-adapter.js';
import { CancelledError, NotFoundError, PermissionDeniedError, TimeoutError, BusyError } from './errors.js';
import { ERROR_CODE_TRAILER } from './grpc-status.js';
import { AgentServiceService, EnsureGuestRequest, type EnsureGuestResponse, type GetGuestResponse } from './gen/phoenix/agent/v1/agent.js';

const definition = { getGuest: AgentServiceService.getGuest, ensureGuest: AgentServiceService.ensureGuest };

const logLines: Array<Record<string, unknown>> = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  }),
);

let server: Server;
let client: Client & Record<string, (...args: unknown[]) => unknown>;
const outcomes: CallOutcome[] = [];
const seen: { signal: AbortSignal | undefined; writes: number; writing: boolean } = { signal: undefined, writes: 0, writing: false };
let denyNext = false;

beforeAll(async () => {
  server = new Server();
  server.addService(
    definition,
    adaptService(
      definition,
      {
        async getGuest(req, ctx): Promise<GetGuestResponse> {
          seen.signal = ctx.signal;
          switch (req.vmid) {
            case 404:
              throw new NotFoundError('CT 404 does not exist');
            case 429:
              throw new BusyError('guest:429 is busy');
            case 500:
              throw new Error('secret internals: /etc/pve/priv/token=abc');
            case 501:
              return (null as unknown as { x: () => GetGuestResponse }).x();
            case 900:
              await new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted by library'))));
              break;
          }
          return { summary: undefined, config: { hostname: `ct${req.vmid}` }, installedFeatures: [] };
        },
        async ensureGuest(req, ctx, sink: StreamSink<EnsureGuestResponse>) {
          seen.signal = ctx.signal;
          seen.writes = 0;
          const count = req.spec?.vmid ?? 0;
          const big = 'x'.repeat(64 * 1024);
          for (let i = 0; i < count; i++) {
            seen.writing = true;
            await sink.write({ event: { operationId: big, seq: i + 1, time: undefined, kind: undefined } });
            seen.writing = false;
            seen.writes++;
          }
          if (count === 0) await new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
        },
      },
      {
        service: 'phoenix.agent.v1.AgentService',
        logger,
        authorize: () => {
          if (denyNext) {
            denyNext = false;
            throw new PermissionDeniedError("role 'agent' may not call this service");
          }
          return { role: 'coordinator', name: 'test' };
        },
        onCallEnd: (o) => outcomes.push(o),
      },
    ),
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const Ctor = makeGenericClientConstructor(definition, 'AgentService');
  client = new Ctor(`127.0.0.1:${port}`, credentials.createInsecure()) as typeof client;
});

afterAll(() => {
  client.close();
  server.forceShutdown();
});

function getGuest(vmid: number, deadlineMs = 5_000): Promise<GetGuestResponse> {
  return new Promise((resolve, reject) =>
    client['getGuest']!({ vmid }, new Metadata(), { deadline: Date.now() + deadlineMs }, (err: ServiceError | null, res: GetGuestResponse) =>
      err ? reject(err) : resolve(res),
    ),
  );
}

describe('grpc adapter - errors become statuses', () => {
  it('maps a typed error through the shared table, with the code trailer', async () => {
    const err = (await getGuest(404).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.details).toBe('CT 404 does not exist');
    expect(err.metadata.get(ERROR_CODE_TRAILER)).toEqual(['NOT_FOUND']);
    const busy = (await getGuest(429).catch((e: unknown) => e)) as ServiceError;
    expect(busy.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(busy.metadata.get(ERROR_CODE_TRAILER)).toEqual(['BUSY']);
  });

  it('answers an unexpected error with a generic INTERNAL, logs it, and keeps serving', async () => {
    for (const vmid of [500, 501]) {
      const err = (await getGuest(vmid).catch((e: unknown) => e)) as ServiceError;
      expect(err.code).toBe(status.INTERNAL);
      expect(err.details).toMatch(/^internal error \(ref [0-9a-f-]{36}\)$/);
      expect(err.details).not.toMatch(/secret|token/);
      const ref = err.details.slice(-37, -1);
      expect(logLines.some((l) => l['ref'] === ref && l['level'] === 50)).toBe(true);
    }
    await expect(getGuest(101)).resolves.toMatchObject({ config: { hostname: 'ct101' } });
  });

  it('refuses before the handler when authorisation fails', async () => {
    seen.signal = undefined;
    denyNext = true;
    const err = (await getGuest(102).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(seen.signal).toBeUndefined();
  });

  it('turns the deadline into an aborted signal with a TimeoutError', async () => {
    const err = (await getGuest(900, 200).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    // The client gives up on its own clock; the server's end of the call is recorded when it has run.
    await vi.waitFor(() => expect(outcomes.at(-1)).toMatchObject({ method: 'GetGuest', type: 'unary', code: status.DEADLINE_EXCEEDED }), {
      timeout: 10_000,
    });
    expect(seen.signal?.aborted).toBe(true);
    expect(seen.signal?.reason).toBeInstanceOf(TimeoutError);
  });
});

describe('grpc adapter - streams', () => {
  it('aborts the handler signal with a CancelledError when the client cancels', async () => {
    seen.signal = undefined;
    const call = client['ensureGuest']!(EnsureGuestRequest.fromPartial({ spec: { vmid: 0 } })) as ClientReadableStream<unknown>;
    call.on('error', () => undefined);
    await vi.waitFor(() => expect(seen.signal).toBeDefined(), { timeout: 10_000 });
    const signal = seen.signal!;
    expect(signal.aborted).toBe(false);
    call.cancel();
    await vi.waitFor(() => expect(outcomes.at(-1)).toMatchObject({ method: 'EnsureGuest', type: 'server_stream', code: status.CANCELLED }), {
      timeout: 10_000,
    });
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(CancelledError);
  });

  it('waits for the reader: writes stall while the client does not read', async () => {
    // HTTP/2 and grpc-js buffer some tens of MB before the sender feels it: 2000 × 64 KiB is beyond that.
    const total = 2000;
    const call = client['ensureGuest']!(EnsureGuestRequest.fromPartial({ spec: { vmid: total } })) as ClientReadableStream<EnsureGuestResponse>;
    call.pause();
    // Stalled: the handler waits in a write, and a whole later call (other traffic served meanwhile)
    // leaves the count where it was, so the writer had the chance to go on and did not.
    let stalledAt = -1;
    await vi.waitFor(
      async () => {
        const before = seen.writes;
        await getGuest(101);
        expect(seen.writing && seen.writes === before).toBe(true);
        stalledAt = before;
      },
      { timeout: 20_000, interval: 20 },
    );
    expect(stalledAt).toBeGreaterThan(0);
    expect(stalledAt).toBeLessThan(total);
    let received = 0;
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', () => received++);
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.resume();
    await done;
    expect(received).toBe(total);
    expect(seen.writes).toBe(total);
  });
});
