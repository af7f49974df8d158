/** IPv4 arithmetic for cross checks (address in subnet, pool ranges). Inputs are validated already. */

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

export function intToIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Subnet {
  readonly network: number;
  readonly prefix: number;
  readonly mask: number;
}

/** `10.0.0.5/24` → the subnet 10.0.0.0/24 (host bits dropped). */
export function parseCidr(cidr: string): Subnet {
  const [ip = '0.0.0.0', len = '32'] = cidr.split('/');
  const prefix = Number(len);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { network: (ipToInt(ip) & mask) >>> 0, prefix, mask };
}

export function inSubnet(ip: string, subnet: Subnet): boolean {
  return ((ipToInt(ip) & subnet.mask) >>> 0) === subnet.network;
}

/** The address part of `10.0.0.5/24`. */
export function addressOf(cidrOrIp: string): string {
  return cidrOrIp.split('/')[0] ?? cidrOrIp;
}

export function parseRange(range: string): { first: number; last: number } {
  const [a = '', b = ''] = range.split('-');
  return { first: ipToInt(a), last: ipToInt(b) };
}
