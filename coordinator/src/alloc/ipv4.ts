/** IPv4 arithmetic on unsigned 32-bit integers, with validated parsing. */
import { InvalidArgumentError, cidrSchema, ipv4Schema, parseOrThrow } from '@phoenix/shared';

export interface Subnet {
  readonly network: number;
  readonly prefix: number;
  readonly broadcast: number;
}

/** An inclusive range of addresses. */
export interface AddressRange {
  readonly first: number;
  readonly last: number;
}

export function parseIpv4(value: string, field = 'address'): number {
  const text = parseOrThrow(ipv4Schema, value, field);
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

export function formatIpv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** `10.0.0.5/24` → 10.0.0.0/24: host bits are dropped (Phoenix configs give host CIDRs as subnets). */
export function parseSubnet(cidr: string, field = 'cidr'): Subnet {
  const text = parseOrThrow(cidrSchema, cidr, field);
  const [ip = '', len = ''] = text.split('/');
  const prefix = Number(len);
  const size = 2 ** (32 - prefix);
  const network = Math.floor(parseIpv4(ip, field) / size) * size;
  return { network, prefix, broadcast: network + size - 1 };
}

export function subnetContains(subnet: Subnet, address: number): boolean {
  return address >= subnet.network && address <= subnet.broadcast;
}

/** Addresses a host may use: all but the network and broadcast address (RFC 3021: /31 and /32 have none). */
export function usableHosts(subnet: Subnet): AddressRange {
  if (subnet.prefix >= 31) return { first: subnet.network, last: subnet.broadcast };
  return { first: subnet.network + 1, last: subnet.broadcast - 1 };
}

/** One address, `a-b` (inclusive) or a CIDR, as a range. */
export function parseAddressRange(spec: string, field = 'range'): AddressRange {
  if (spec.includes('/')) {
    const s = parseSubnet(spec, field);
    return { first: s.network, last: s.broadcast };
  }
  const [a = '', b, ...rest] = spec.split('-');
  if (rest.length > 0) throw new InvalidArgumentError(field, spec, 'must be an address, first-last, or a CIDR');
  const first = parseIpv4(a.trim(), field);
  const last = b === undefined ? first : parseIpv4(b.trim(), field);
  if (first > last) throw new InvalidArgumentError(field, spec, 'range start is after its end');
  return { first, last };
}

/** A static address as Phoenix configs write it: `10.0.0.5` or `10.0.0.5/24`. */
export function parseStaticAddress(value: string, field = 'ip'): { address: number; prefix: number | undefined } {
  const slash = value.indexOf('/');
  if (slash < 0) return { address: parseIpv4(value, field), prefix: undefined };
  parseOrThrow(cidrSchema, value, field);
  return { address: parseIpv4(value.slice(0, slash), field), prefix: Number(value.slice(slash + 1)) };
}
