import net from 'node:net';

/** IP and CIDR checks as Go's net package makes them (no leading zeros, canonical forms). */
export function isIp(ip: string): boolean {
  return net.isIP(ip) !== 0;
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const family = net.isIP(base ?? '');
  if (!base || family === 0 || net.isIP(ip) !== family) return false;
  const list = new net.BlockList();
  const type = family === 4 ? 'ipv4' : 'ipv6';
  list.addSubnet(base, Number(bits), type);
  return list.check(ip, type);
}

export function inAnyCidr(ip: string, cidrs: string[]): boolean {
  return cidrs.some((c) => inCidr(ip, c));
}
