/**
 * How a CLI or a coordinator reaches the cluster: NATS (password in a file) and the TLS files for
 * talking to agents. Read from a YAML context file (`--context`, or PHOENIX_CONTEXT).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseYamlText } from '../spec/yaml-read.js';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { clusterNameSchema, describeZodError, InvalidArgumentError, loadTlsMaterial, tlsPathsSchema, type TlsMaterial } from '@phoenix/shared';

export const contextSchema = z.strictObject({
  cluster: clusterNameSchema,
  nats: z.strictObject({
    url: z.string().min(1),
    user: z.string().min(1),
    /** File holding the password; the password itself never appears in a config file. */
    passwordFile: z.string().min(1),
  }),
  tls: tlsPathsSchema,
  /** Shown to agents as the requester. */
  name: z.string().regex(/^[a-zA-Z0-9._-]+$/).default('phoenix-cli'),
});
export type ClusterContext = z.infer<typeof contextSchema>;

export async function loadContext(path: string | undefined): Promise<ClusterContext> {
  const file = path ?? process.env['PHOENIX_CONTEXT'];
  if (!file) throw new InvalidArgumentError('--context', file, 'no cluster context: pass --context <file> or set PHOENIX_CONTEXT');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new InvalidArgumentError('--context', file, 'cannot read the context file', { cause });
  }
  const data = parseYamlText(text, file);
  const r = contextSchema.safeParse(data);
  if (!r.success) throw new InvalidArgumentError('context', file, describeZodError(r.error, data).join('; '), { cause: r.error });
  return r.data;
}

export async function connectNats(ctx: ClusterContext, name: string, options: { reconnect?: boolean } = {}): Promise<NatsConnection> {
  const pass = (await readFile(ctx.nats.passwordFile, 'utf8')).trim();
  return connect({
    servers: ctx.nats.url,
    user: ctx.nats.user,
    pass,
    name,
    maxReconnectAttempts: options.reconnect === false ? 0 : -1,
    reconnectTimeWait: 500,
  });
}

export function contextTls(ctx: ClusterContext): TlsMaterial {
  return loadTlsMaterial(ctx.tls);
}
