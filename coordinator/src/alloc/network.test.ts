import { InvalidArgumentError } from '@phoenix/shared';
import { describe, expect, it } from 'vitest';
import { formatIpv4, parseAddressRange, parseIpv4, parseStaticAddress, parseSubnet, usableHosts } from './ipv4.js';
import { Network } from './network.js';

const ip = parseIpv4;

describe('IPv4 helpers', () => {
  it('round-trips addresses, including the top of the space', () => {
    for (const a of ['0.0.0.0', '10.0.0.153', '255.255.255.255']) expect(formatIpv4(parseIpv4(a))).toBe(a);
    expect(() => parseIpv4('10.0.0.256')).toThrow(InvalidArgumentError);
  });

  it('drops host bits from a subnet and knows network and broadcast', () => {
    const s = parseSubnet('10.0.0.13/24');
    expect(formatIpv4(s.network)).toBe('10.0.0.0');
    expect(formatIpv4(s.broadcast)).toBe('10.0.0.255');
    const hosts = usableHosts(s);
    expect([formatIpv4(hosts.first), formatIpv4(hosts.last)]).toEqual(['10.0.0.1', '10.0.0.254']);
    // RFC 3021: /31 and /32 have no network or broadcast address to avoid.
    expect(usableHosts(parseSubnet('10.0.0.4/31'))).toEqual({ first: ip('10.0.0.4'), last: ip('10.0.0.5') });
    expect(usableHosts(parseSubnet('192.168.1.1/32'))).toEqual({ first: ip('192.168.1.1'), last: ip('192.168.1.1') });
  });

  it('reads single addresses, first-last ranges and CIDRs as ranges', () => {
    expect(parseAddressRange('10.0.0.5')).toEqual({ first: ip('10.0.0.5'), last: ip('10.0.0.5') });
    expect(parseAddressRange('10.0.0.5-10.0.0.9')).toEqual({ first: ip('10.0.0.5'), last: ip('10.0.0.9') });
    expect(parseAddressRange('10.0.0.8/30')).toEqual({ first: ip('10.0.0.8'), last: ip('10.0.0.11') });
    expect(() => parseAddressRange('10.0.0.9-10.0.0.5')).toThrow(/after its end/);
    expect(parseStaticAddress('10.0.0.150/24')).toEqual({ address: ip('10.0.0.150'), prefix: 24 });
    expect(parseStaticAddress('10.0.0.150')).toEqual({ address: ip('10.0.0.150'), prefix: undefined });
  });
});

describe('Network', () => {
  const net = Network.from({
    name: 'lan',
    cidr: '10.0.0.0/24',
    gateway: '10.0.0.1',
    exclude: ['10.0.0.13', '10.0.0.20-10.0.0.29', '10.0.0.248/29'],
    pools: [{ name: 'ct', range: '10.0.0.10-10.0.0.40' }],
  });

  it('refuses network, broadcast, gateway, excluded and foreign addresses, with the reason', () => {
    expect(net.refusal(ip('10.0.0.0'))).toMatch(/network address/);
    expect(net.refusal(ip('10.0.0.255'))).toMatch(/broadcast/);
    expect(net.refusal(ip('10.0.0.1'))).toMatch(/gateway/);
    expect(net.refusal(ip('10.0.0.13'))).toMatch(/excluded/);
    expect(net.refusal(ip('10.0.0.25'))).toMatch(/excluded/);
    expect(net.refusal(ip('10.0.0.250'))).toMatch(/excluded/);
    expect(net.refusal(ip('10.0.1.5'))).toMatch(/not inside network lan/);
    expect(net.refusal(ip('10.0.0.150'))).toBeUndefined();
  });

  it('walks a pool skipping exclusions', () => {
    const [range] = net.autoRanges('ct');
    const seen: string[] = [];
    for (let a = net.nextUsable(range!, range!.first); a !== undefined; a = net.nextUsable(range!, a + 1)) seen.push(formatIpv4(a));
    expect(seen[0]).toBe('10.0.0.10');
    expect(seen).not.toContain('10.0.0.13');
    expect(seen.filter((s) => /^10\.0\.0\.2\d$/.test(s))).toEqual([]);
    expect(seen.at(-1)).toBe('10.0.0.40');
    expect(seen).toHaveLength(31 - 1 - 10);
  });

  it('draws from the whole usable subnet when it has no pools', () => {
    const bare = Network.from({ name: 'bare', cidr: '192.168.5.0/30', gateway: '192.168.5.1' });
    const [range] = bare.autoRanges();
    expect(bare.nextUsable(range!, range!.first)).toBe(ip('192.168.5.2'));
    expect(bare.nextUsable(range!, ip('192.168.5.3'))).toBeUndefined();
  });

  it('rejects inconsistent definitions', () => {
    expect(() => Network.from({ name: 'x', cidr: '10.0.0.0/24', gateway: '10.0.1.1' })).toThrow(/gateway/);
    expect(() => Network.from({ name: 'x', cidr: '10.0.0.0/24', gateway: '10.0.0.255' })).toThrow(/gateway/);
    expect(() => Network.from({ name: 'x', cidr: '10.0.0.0/24', pools: [{ name: 'p', range: '10.0.0.0-10.0.0.9' }] })).toThrow(
      /inside the hosts/,
    );
    expect(() =>
      Network.from({
        name: 'x',
        cidr: '10.0.0.0/24',
        pools: [
          { name: 'p', range: '10.0.0.2-10.0.0.9' },
          { name: 'p', range: '10.0.0.20-10.0.0.29' },
        ],
      }),
    ).toThrow(/duplicate pool/);
    expect(() => net.autoRanges('nope')).toThrow(/no such pool/);
  });
});
