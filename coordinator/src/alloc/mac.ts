/**
 * MAC addresses. Generated ones use a locally administered unicast prefix (never Proxmox's own
 * OUI BC:24:11, which Proxmox hands out itself) and a suffix derived from the guest and NIC, so a
 * guest gets the same MAC every time it is allocated while that MAC is free.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError, macSchema, parseOrThrow } from '@phoenix/shared';

/** 02:50:48: locally administered, unicast ("PH"). */
export const DEFAULT_MAC_PREFIX = '02:50:48';

export function normalizeMac(value: string, field = 'mac'): string {
  const mac = parseOrThrow(macSchema, value, field).toUpperCase();
  if (mac === '00:00:00:00:00:00') throw new InvalidArgumentError(field, value, 'must not be all zeros');
  return mac;
}

export interface MacPrefix {
  readonly octets: readonly number[];
  /** Number of free bits after the prefix. */
  readonly bits: number;
}

/** A prefix of 1 to 5 octets; the first must be locally administered (bit 1) and unicast (bit 0 clear). */
export function parseMacPrefix(value: string, field = 'macPrefix'): MacPrefix {
  const parts = value.split(':');
  if (parts.length < 1 || parts.length > 5 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    throw new InvalidArgumentError(field, value, 'must be 1 to 5 hex octets separated by colons, e.g. 02:50:48');
  }
  const octets = parts.map((p) => parseInt(p, 16));
  const first = octets[0] ?? 0;
  if ((first & 1) !== 0) throw new InvalidArgumentError(field, value, 'must be unicast (first octet even)');
  if ((first & 2) === 0) {
    throw new InvalidArgumentError(field, value, 'must be locally administered (second bit of the first octet set, e.g. 02:…)');
  }
  return { octets, bits: 8 * (6 - octets.length) };
}

/** The n-th MAC under `prefix`, n taken modulo the suffix space. */
export function macAt(prefix: MacPrefix, n: number): string {
  const space = 2 ** prefix.bits;
  let rest = ((n % space) + space) % space;
  const suffix: number[] = [];
  for (let i = 0; i < 6 - prefix.octets.length; i++) {
    suffix.unshift(rest % 256);
    rest = Math.floor(rest / 256);
  }
  return [...prefix.octets, ...suffix].map((o) => o.toString(16).toUpperCase().padStart(2, '0')).join(':');
}

/** Where a guest's NIC starts looking: a hash of guest and NIC, so it is stable and spread out. */
export function macSeed(prefix: MacPrefix, guestId: string, nicId: string): number {
  const digest = createHash('sha256').update(`${guestId}\u0000${nicId}`).digest();
  // 48 bits at most: a safe integer.
  return digest.readUIntBE(0, 6) % 2 ** prefix.bits;
}
