/**
 * What the connected nats-server can do, decided by its version. Features that need a newer server
 * than Debian's 2.9.x are gated here and never assumed: on 2.9 a per-key TTL is accepted and then
 * silently ignored, so guessing wrong would leave keys that never expire.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { UnavailableError } from '@phoenix/shared';

export interface ServerVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly text: string;
}

export interface ServerCapabilities {
  readonly version: ServerVersion;
  /** Per-message / per-key TTL and KV limit markers (2.11+). */
  readonly perKeyTtl: boolean;
  /** Several filter subjects in one consumer, multi-key KV watch (2.10+). */
  readonly multiFilter: boolean;
}

/** Minimum server versions of the features we gate on. */
export const FEATURE_MIN_VERSION = {
  perKeyTtl: '2.11.0',
  multiFilter: '2.10.0',
} as const;

export function parseServerVersion(text: string): ServerVersion {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (!m) throw new UnavailableError(`cannot read nats-server version ${JSON.stringify(text)}`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text };
}

export function versionAtLeast(have: ServerVersion, min: string): boolean {
  const want = parseServerVersion(min);
  if (have.major !== want.major) return have.major > want.major;
  if (have.minor !== want.minor) return have.minor > want.minor;
  return have.patch >= want.patch;
}

export function serverCapabilities(nc: NatsConnection): ServerCapabilities {
  const text = nc.info?.version;
  if (text === undefined) throw new UnavailableError('NATS connection has no server info yet');
  const version = parseServerVersion(text);
  return {
    version,
    perKeyTtl: versionAtLeast(version, FEATURE_MIN_VERSION.perKeyTtl),
    multiFilter: versionAtLeast(version, FEATURE_MIN_VERSION.multiFilter),
  };
}
