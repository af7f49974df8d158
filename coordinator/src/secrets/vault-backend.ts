/**
 * HashiCorp Vault KV v2 over its HTTP API, at ProxShift's path layout: paths are API paths below
 * /v1 with the mount's `data` segment (`secrets/data/openshift/<cluster>`); a path without it gets
 * it after the first segment (the mount). The token comes from a file and is sent only as the
 * X-Vault-Token header; nothing of a request body reaches a log or an error.
 */
import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { InvalidArgumentError, PermissionDeniedError, UnavailableError } from '@phoenix/shared';
import { checkSecretPath, type SecretBackend, type SecretFields } from './types.js';

export interface VaultOptions {
  /** e.g. https://vault.example.com:8200 */
  address: string;
  /** File holding the token (already resolved, e.g. from $CREDENTIALS_DIRECTORY). */
  tokenFile: string;
  /** CA bundle for the Vault server's certificate. */
  caFile?: string;
  namespace?: string;
  timeoutMs?: number;
}

interface VaultResponse {
  status: number;
  body: unknown;
}

/** `secrets/openshift/x` → data and metadata API paths of KV v2. */
export function kvV2Paths(path: string): { data: string; metadata: string } {
  const parts = checkSecretPath('path', path).split('/');
  const [mount, ...rest] = parts;
  if (mount === undefined || rest.length === 0) throw new InvalidArgumentError('path', path, 'a Vault KV path is <mount>/<name>');
  const tail = rest[0] === 'data' || rest[0] === 'metadata' ? rest.slice(1) : rest;
  if (tail.length === 0) throw new InvalidArgumentError('path', path, 'names a mount, not a secret');
  return { data: `${mount}/data/${tail.join('/')}`, metadata: `${mount}/metadata/${tail.join('/')}` };
}

export class VaultSecretBackend implements SecretBackend {
  readonly name = 'vault' as const;
  readonly #o: VaultOptions;
  readonly #url: URL;

  constructor(options: VaultOptions) {
    let url: URL;
    try {
      url = new URL(options.address);
    } catch (cause) {
      throw new InvalidArgumentError('secrets.vault.address', options.address, 'not a URL', { cause });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidArgumentError('secrets.vault.address', options.address, 'must be http(s)');
    this.#o = options;
    this.#url = url;
  }

  async read(path: string): Promise<SecretFields | undefined> {
    const r = await this.#call('GET', kvV2Paths(path).data, undefined, path);
    if (r.status === 404) return undefined;
    const data = (r.body as { data?: { data?: unknown } } | undefined)?.data?.data;
    if (data === null || typeof data !== 'object') return undefined; // deleted version
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(data)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
    return out;
  }

  async write(path: string, fields: SecretFields): Promise<void> {
    await this.#call('POST', kvV2Paths(path).data, { data: fields }, path);
  }

  async remove(path: string): Promise<boolean> {
    const exists = (await this.read(path)) !== undefined;
    // Deleting the metadata removes every version, not just the latest.
    await this.#call('DELETE', kvV2Paths(path).metadata, undefined, path);
    return exists;
  }

  async #call(method: string, apiPath: string, body: unknown, path: string): Promise<VaultResponse> {
    const token = (await readFile(this.#o.tokenFile, 'utf8')).trim();
    const ca = this.#o.caFile ? await readFile(this.#o.caFile) : undefined;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const url = new URL(`/v1/${apiPath}`, this.#url);
    const options: RequestOptions & { ca?: Buffer } = {
      method,
      headers: {
        'X-Vault-Token': token,
        ...(this.#o.namespace ? { 'X-Vault-Namespace': this.#o.namespace } : {}),
        ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
      },
      timeout: this.#o.timeoutMs ?? 10_000,
      ...(ca ? { ca } : {}),
    };
    const res = await new Promise<VaultResponse>((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (msg: IncomingMessage) => {
        const chunks: Buffer[] = [];
        msg.on('data', (c: Buffer) => chunks.push(c));
        msg.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: msg.statusCode ?? 0, body: parsed });
        });
        msg.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeout ?? 0} ms`)));
      req.on('error', reject);
      req.end(payload);
    }).catch((cause: unknown) => {
      throw new UnavailableError(`Vault at ${this.#url.origin} did not answer for ${path}`, { cause });
    });
    if (res.status === 403) throw new PermissionDeniedError(`Vault denied ${method} ${path} (check the token's policy)`);
    if (res.status >= 400 && res.status !== 404) {
      const errors = (res.body as { errors?: unknown } | undefined)?.errors;
      const why = Array.isArray(errors) ? errors.filter((e) => typeof e === 'string').join('; ') : '';
      throw new UnavailableError(`Vault answered ${res.status} for ${method} ${path}${why ? `: ${why}` : ''}`);
    }
    return res;
  }
}
