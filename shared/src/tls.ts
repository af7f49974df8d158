/**
 * TLS helpers for mTLS between the CLI, coordinators and agents. Identities live in the client
 * certificate: the role in OU (coordinator, admin, agent) and the name in CN, both signed by the
 * cluster CA, so an agent can authorise a caller without any other secret.
 */
import { readFileSync } from 'node:fs';
import { credentials, ServerCredentials, type ChannelCredentials, type ServerUnaryCall } from '@grpc/grpc-js';
import { z } from 'zod';
import { UnauthenticatedError, PermissionDeniedError } from './errors.js';

export const ROLES = ['coordinator', 'admin', 'agent'] as const;
export type Role = (typeof ROLES)[number];

export interface Identity {
  role: Role;
  name: string;
}

/** Paths of the PEM files one process needs. The key file is a secret: its contents are never logged. */
export const tlsPathsSchema = z.strictObject({
  ca: z.string().min(1),
  cert: z.string().min(1),
  key: z.string().min(1),
});
export type TlsPaths = z.infer<typeof tlsPathsSchema>;

export interface TlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export function loadTlsMaterial(paths: TlsPaths): TlsMaterial {
  return { ca: readFileSync(paths.ca), cert: readFileSync(paths.cert), key: readFileSync(paths.key) };
}

/** Server credentials that demand a client certificate signed by the cluster CA. */
export function serverCredentials(tls: TlsMaterial): ServerCredentials {
  return ServerCredentials.createSsl(tls.ca, [{ private_key: tls.key, cert_chain: tls.cert }], true);
}

export function clientCredentials(tls: TlsMaterial): ChannelCredentials {
  return credentials.createSsl(tls.ca, tls.key, tls.cert);
}

/**
 * Channel options for dialing a node by address while verifying the certificate's DNS name
 * (certificates name nodes, addresses may be loopback in tests).
 */
export function targetNameOverride(serverName: string): Record<string, string> {
  return { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName };
}

/** Reads the caller's identity from the verified peer certificate of a gRPC call. */
export function callerIdentity(call: Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext'>): Identity {
  const auth = call.getAuthContext();
  const cert = auth?.sslPeerCertificate;
  if (!auth || auth.transportSecurityType !== 'ssl' || !cert || !cert.subject) {
    throw new UnauthenticatedError('a client certificate issued by the cluster CA is required');
  }
  const subject = cert.subject as unknown as Record<string, string | string[] | undefined>;
  const ou = first(subject['OU']);
  const cn = first(subject['CN']);
  const role = ROLES.find((r) => r === ou);
  if (!role || !cn) {
    throw new PermissionDeniedError(`certificate subject has no Phoenix role (OU=${ou ?? ''})`);
  }
  return { role, name: cn };
}

/** Throws PermissionDenied unless the caller's role is one of `allowed`. */
export function requireRole(identity: Identity, allowed: readonly Role[]): void {
  if (!allowed.includes(identity.role)) {
    throw new PermissionDeniedError(`role '${identity.role}' may not call this service (allowed: ${allowed.join(', ')})`);
  }
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
