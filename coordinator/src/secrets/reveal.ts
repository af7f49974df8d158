/**
 * Handing a stored secret to the CLI on request only: the CLI sends a one-time X25519 public key,
 * a coordinator that holds the secrets key reads the secret and answers it sealed to that key, so
 * the value crosses NATS encrypted end to end and the CLI never holds the coordinators' key.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { z } from 'zod';
import { FailedPreconditionError, NotFoundError, UnavailableError, errorFromCode, subjects, type Logger } from '@phoenix/shared';
import { OPENSHIFT_CLUSTER_NAME } from '../spec/openshift.js';
import { generateKeyPair, open, publicKeyBase64, recipientFromBase64, seal, sealedSchema } from './sealed.js';
import type { SecretRefLike, SecretStore } from './secret-store.js';

export const REVEAL_FIELDS = ['kubeconfig', 'kubeadmin'] as const;
export type RevealField = (typeof REVEAL_FIELDS)[number];

const requestSchema = z.strictObject({
  cluster: z.string().regex(OPENSHIFT_CLUSTER_NAME),
  field: z.enum(REVEAL_FIELDS),
  replyKey: z.string().min(40).max(64),
});
const replySchema = z.union([
  z.strictObject({ sealed: sealedSchema }),
  z.strictObject({ error: z.strictObject({ code: z.string(), message: z.string() }) }),
]);

const revealPath = (cluster: string, field: string): string => `reveal/${cluster}/${field}`;

/** Where a cluster's credentials are stored (from its install record), or undefined. */
export type CredentialsLookup = (cluster: string) => Promise<SecretRefLike | undefined>;

export function serveReveals(nc: NatsConnection, cluster: string, secrets: SecretStore, lookup: CredentialsLookup, logger: Logger): Subscription {
  const sub = nc.subscribe(subjects.reveal(cluster), { queue: 'phoenix-coordinators' });
  void (async () => {
    for await (const msg of sub) {
      let reply: z.infer<typeof replySchema>;
      let asked: { cluster?: string; field?: string } = {};
      try {
        const req = requestSchema.parse(msg.json());
        asked = { cluster: req.cluster, field: req.field };
        const ref = await lookup(req.cluster);
        if (!ref) throw new NotFoundError(`OpenShift cluster ${req.cluster} has no stored credentials (not installed by Phoenix)`);
        const value = await secrets.resolve({ ...ref, key: req.field });
        reply = { sealed: seal(recipientFromBase64(req.replyKey), revealPath(req.cluster, req.field), value) };
        logger.info(asked, 'secret revealed to a requester');
      } catch (err) {
        const e = err as { code?: string; message?: string };
        reply = { error: { code: typeof e.code === 'string' ? e.code : 'INVALID_ARGUMENT', message: e.message ?? 'bad request' } };
        logger.warn({ ...asked, code: reply.error.code }, 'reveal refused');
      }
      msg.respond(JSON.stringify(reply));
    }
  })();
  return sub;
}

/** Asks a coordinator for a secret of an installed cluster; the value is opened here only. */
export async function requestReveal(nc: NatsConnection, contextCluster: string, cluster: string, field: RevealField, timeoutMs = 10_000): Promise<string> {
  const keys = generateKeyPair();
  let raw;
  try {
    raw = await nc.request(subjects.reveal(contextCluster), JSON.stringify({ cluster, field, replyKey: publicKeyBase64(keys) }), { timeout: timeoutMs });
  } catch (cause) {
    throw new UnavailableError('no coordinator with the secrets key answered (is one running with secrets.keyFile?)', { cause });
  }
  const reply = replySchema.safeParse(raw.json());
  if (!reply.success) throw new FailedPreconditionError('the coordinator sent an answer this CLI does not understand');
  if ('error' in reply.data) throw errorFromCode(reply.data.error.code, reply.data.error.message);
  return open(keys, revealPath(cluster, field), reply.data.sealed);
}
