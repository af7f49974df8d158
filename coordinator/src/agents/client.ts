/**
 * Promise-based client for one node's phoenix-agent over mTLS. Every call has a deadline, every
 * mutating call carries an OperationContext (idempotency key, fencing token), and failures come
 * back as the shared typed errors.
 */
import { randomUUID } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { Metadata, type CallOptions, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import {
  agentv1,
  clientCredentials,
  fromServiceError,
  isServiceError,
  targetNameOverride,
  CancelledError,
  type TlsMaterial,
  type commonv1,
} from '@phoenix/shared';

export interface AgentEndpoint {
  node: string;
  /** host:port */
  address: string;
  /** Name in the agent's certificate; defaults to the node name. */
  serverName?: string;
}

export interface AgentClientOptions {
  tls: TlsMaterial;
  /** Shown to the agent in OperationContext.requester, e.g. "coordinator/coord-a". */
  requester: string;
  /** Current leader lease revision; 0 when not fenced (admin CLI). */
  fencingToken?: () => number;
  /** Default deadline for unary calls. */
  deadlineMs?: number;
}

export interface CallOpts {
  deadlineMs?: number;
  signal?: AbortSignal;
}

type Client = agentv1.AgentServiceClient;
/** Under gRPC's default 4 MiB message limit, with room for the envelope. */
const ISO_CHUNK_BYTES = 3 * 1024 * 1024;
type Unary<Req, Res> = (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: (e: ServiceError | null, r: Res) => void) => unknown;

export class AgentClient {
  readonly node: string;
  private readonly client: Client;

  constructor(
    endpoint: AgentEndpoint,
    private readonly options: AgentClientOptions,
  ) {
    this.node = endpoint.node;
    this.client = new agentv1.AgentServiceClient(endpoint.address, clientCredentials(options.tls), {
      ...targetNameOverride(endpoint.serverName ?? endpoint.node),
      'grpc.keepalive_time_ms': 30_000,
    });
  }

  context(idempotencyKey: string): commonv1.OperationContext {
    return {
      idempotencyKey,
      fencingToken: this.options.fencingToken?.() ?? 0,
      requester: this.options.requester,
    };
  }

  getNodeInfo(opts?: CallOpts): Promise<agentv1.GetNodeInfoResponse> {
    return this.unary('GetNodeInfo', this.client.getNodeInfo.bind(this.client), {}, opts);
  }
  listGuests(opts?: CallOpts): Promise<agentv1.ListGuestsResponse> {
    return this.unary('ListGuests', this.client.listGuests.bind(this.client), {}, opts);
  }
  getGuest(vmid: number, opts?: CallOpts): Promise<agentv1.GetGuestResponse> {
    return this.unary('GetGuest', this.client.getGuest.bind(this.client), { vmid }, opts);
  }
  listGpus(opts?: CallOpts): Promise<agentv1.ListGpusResponse> {
    return this.unary('ListGpus', this.client.listGpus.bind(this.client), {}, opts);
  }
  stopGuest(key: string, vmid: number, opts?: CallOpts): Promise<agentv1.StopGuestResponse> {
    const req = { context: this.context(key), vmid, shutdownTimeoutSeconds: 30 };
    return this.unary('StopGuest', this.client.stopGuest.bind(this.client), req, opts);
  }
  deleteGuest(key: string, vmid: number, opts?: CallOpts): Promise<agentv1.DeleteGuestResponse> {
    const req = { context: this.context(key), vmid, force: true, purge: true };
    return this.unary('DeleteGuest', this.client.deleteGuest.bind(this.client), req, opts);
  }
  cloneGuest(key: string, spec: agentv1.GuestSpec, opts?: CallOpts): Promise<agentv1.CloneGuestResponse> {
    const req = { context: this.context(key), spec };
    return this.unary('CloneGuest', this.client.cloneGuest.bind(this.client), req, { deadlineMs: 30 * 60_000, ...opts });
  }
  /**
   * Uploads a local ISO to `<storage>:iso/<file>`: asks how much is staged (resuming an earlier
   * try), sends the rest in chunks, then commits. Nothing is sent when the volume already holds
   * this content. `changed` is false then.
   */
  async uploadIso(r: { storage: string; file: string; path: string; sha256: string; signal?: AbortSignal }): Promise<{ changed: boolean }> {
    const size = (await stat(r.path)).size;
    const target = { storage: r.storage, file: r.file, sha256: r.sha256, size };
    const opts = r.signal ? { signal: r.signal } : {};
    const write = (offset: number, data: Buffer) =>
      this.unary('WriteIsoChunk', this.client.writeIsoChunk.bind(this.client), { target, offset, data }, { deadlineMs: 120_000, ...opts });
    const first = await write(0, Buffer.alloc(0));
    if (first.present) return { changed: false };
    let staged = first.staged;
    const fh = await open(r.path, 'r');
    try {
      const buf = Buffer.alloc(ISO_CHUNK_BYTES);
      while (staged < size) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(ISO_CHUNK_BYTES, size - staged), staged);
        const next = await write(staged, buf.subarray(0, bytesRead));
        // The agent answers where its staged file ends; a mismatch (another writer) restarts there.
        staged = next.staged;
      }
    } finally {
      await fh.close();
    }
    const key = `iso:${r.storage}:${r.file}:${r.sha256}`;
    const res = await this.unary('CommitIso', this.client.commitIso.bind(this.client), { context: this.context(key), target }, { deadlineMs: 10 * 60_000, ...opts });
    return { changed: res.result?.changed ?? true };
  }
  async deleteIso(r: { storage: string; file: string; signal?: AbortSignal }): Promise<{ changed: boolean }> {
    // A fresh key per removal: a later upload of the same name must not be answered by an old delete.
    const req = { context: this.context(`iso-delete:${r.storage}:${r.file}:${randomUUID()}`), storage: r.storage, file: r.file };
    const res = await this.unary('DeleteIso', this.client.deleteIso.bind(this.client), req, r.signal ? { signal: r.signal } : {});
    return { changed: res.result?.changed ?? false };
  }
  listOperations(onlyUnfinished: boolean, opts?: CallOpts): Promise<agentv1.ListOperationsResponse> {
    return this.unary('ListOperations', this.client.listOperations.bind(this.client), { onlyUnfinished }, opts);
  }

  /**
   * Runs the guest pipeline on the agent, passing every streamed event to `onEvent`, and resolves
   * with the final result. A retry with the same key attaches to the running operation.
   */
  ensureGuest(
    key: string,
    spec: agentv1.GuestSpec,
    onEvent: (event: agentv1.OperationEvent) => void,
    opts: CallOpts & { dryRun?: boolean } = {},
  ): Promise<agentv1.OperationResult> {
    const req: agentv1.EnsureGuestRequest = { context: this.context(key), spec, dryRun: opts.dryRun ?? false };
    const stream = this.client.ensureGuest(req, new Metadata(), this.callOptions(opts.deadlineMs ?? 30 * 60_000));
    return this.consume(`EnsureGuest ${spec.vmid}`, stream, (m) => m.event, onEvent, opts.signal);
  }

  /** Host setup on the agent (SetupHost), streaming every event to `onEvent`. */
  setupHost(
    key: string,
    spec: agentv1.HostSpec,
    onEvent: (event: agentv1.OperationEvent) => void,
    opts: CallOpts & { dryRun?: boolean } = {},
  ): Promise<agentv1.OperationResult> {
    const req: agentv1.SetupHostRequest = { context: this.context(key), spec, dryRun: opts.dryRun ?? false };
    const stream = this.client.setupHost(req, new Metadata(), this.callOptions(opts.deadlineMs ?? 60 * 60_000));
    return this.consume('SetupHost', stream, (m) => m.event, onEvent, opts.signal);
  }

  close(): void {
    this.client.close();
  }

  private callOptions(deadlineMs: number): Partial<CallOptions> {
    return { deadline: Date.now() + deadlineMs };
  }

  private unary<Req, Res>(what: string, fn: Unary<Req, Res>, req: Req, opts: CallOpts = {}): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const call = fn(req, new Metadata(), this.callOptions(opts.deadlineMs ?? this.options.deadlineMs ?? 30_000), (err, res) => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (err) reject(fromServiceError(err, `${this.node}: ${what}`));
        else resolve(res);
      }) as { cancel(): void };
      const onAbort = (): void => call.cancel();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private consume<M>(
    what: string,
    stream: ClientReadableStream<M>,
    eventOf: (m: M) => agentv1.OperationEvent | undefined,
    onEvent: (event: agentv1.OperationEvent) => void,
    signal?: AbortSignal,
  ): Promise<agentv1.OperationResult> {
    return new Promise((resolve, reject) => {
      let result: agentv1.OperationResult | undefined;
      const onAbort = (): void => stream.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('data', (m: M) => {
        const event = eventOf(m);
        if (!event) return;
        if (event.kind?.$case === 'result') result = event.kind.value;
        onEvent(event);
      });
      stream.on('error', (err: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) reject(new CancelledError(`${this.node}: ${what} cancelled`, { cause: err }));
        else reject(isServiceError(err) ? fromServiceError(err, `${this.node}: ${what}`) : err);
      });
      stream.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        if (result) resolve(result);
        else reject(new CancelledError(`${this.node}: ${what} ended without a result`));
      });
    });
  }
}
