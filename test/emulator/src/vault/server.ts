/**
 * HashiCorp Vault's KV version 2 HTTP API, the part clients use: read/write/soft-delete at
 * `/v1/<mount>/data/<path>` and delete-all-versions at `/v1/<mount>/metadata/<path>`, token checked
 * on every request (X-Vault-Token), answers and errors shaped as Vault shapes them
 * (`{"errors":["permission denied"]}` with 403, `{"errors":[]}` with 404).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

interface Version {
  data: Record<string, unknown> | null;
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
  version: number;
}

export interface VaultEmulator {
  readonly address: string;
  /** Latest live data at `<mount>/<path>` (test inspection), or undefined. */
  peek(mount: string, path: string): Record<string, unknown> | undefined;
  /** Every stored secret path, `<mount>/<path>`, including soft-deleted ones. */
  paths(): string[];
  close(): Promise<void>;
}

export interface VaultEmulatorOptions {
  /** Tokens accepted; a request with another token gets 403. */
  tokens: readonly string[];
  /** KV v2 mounts. @default ['secret', 'secrets'] */
  mounts?: readonly string[];
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startVaultEmulator(options: VaultEmulatorOptions): Promise<VaultEmulator> {
  const mounts = new Set(options.mounts ?? ['secret', 'secrets']);
  const store = new Map<string, Version[]>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://vault');
    const token = req.headers['x-vault-token'];
    if (typeof token !== 'string' || !options.tokens.includes(token)) return send(res, 403, { errors: ['permission denied'] });
    const m = /^\/v1\/([^/]+)\/(data|metadata)\/(.+)$/.exec(url.pathname);
    if (!m) return send(res, 404, { errors: [] });
    const [, mount = '', kind, path = ''] = m;
    if (!mounts.has(mount)) return send(res, 403, { errors: [`1 error occurred:\n\t* permission denied\n\n`] });
    const key = `${mount}/${path}`;
    const versions = store.get(key) ?? [];
    const latest = versions.at(-1);
    if (kind === 'data' && req.method === 'GET') {
      if (!latest) return send(res, 404, { errors: [] });
      const metadata = { created_time: latest.created_time, custom_metadata: null, deletion_time: latest.deletion_time, destroyed: latest.destroyed, version: latest.version };
      // A soft-deleted latest version answers 404 with its metadata, as Vault does.
      if (latest.data === null) return send(res, 404, { request_id: 'emulated', data: { data: null, metadata } });
      return send(res, 200, { request_id: 'emulated', lease_id: '', renewable: false, lease_duration: 0, data: { data: latest.data, metadata }, wrap_info: null, warnings: null, auth: null });
    }
    if (kind === 'data' && (req.method === 'POST' || req.method === 'PUT')) {
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        return send(res, 400, { errors: ['failed to parse JSON input: invalid character'] });
      }
      const data = (body as { data?: unknown }).data;
      if (data === null || typeof data !== 'object' || Array.isArray(data)) return send(res, 400, { errors: ['no data provided'] });
      const v: Version = { data: data as Record<string, unknown>, created_time: new Date().toISOString(), deletion_time: '', destroyed: false, version: versions.length + 1 };
      store.set(key, [...versions, v]);
      return send(res, 200, { data: { created_time: v.created_time, custom_metadata: null, deletion_time: '', destroyed: false, version: v.version } });
    }
    if (kind === 'data' && req.method === 'DELETE') {
      if (latest) latest.data = null;
      if (latest) latest.deletion_time = new Date().toISOString();
      return send(res, 204, undefined);
    }
    if (kind === 'metadata' && req.method === 'DELETE') {
      store.delete(key);
      return send(res, 204, undefined);
    }
    return send(res, 405, { errors: ['1 error occurred:\n\t* unsupported operation\n\n'] });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, { errors: ['internal error'] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    address: `http://127.0.0.1:${port}`,
    peek: (mount, path) => store.get(`${mount}/${path}`)?.at(-1)?.data ?? undefined,
    paths: () => [...store.keys()].sort(),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
