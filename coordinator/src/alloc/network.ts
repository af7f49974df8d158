/**
 * A network as the allocator sees it: subnet, gateway, excluded addresses and the pools (ranges)
 * guests are given addresses from. Addresses are unique per network; two differently named
 * networks are separate address spaces (isolated bridges or VLANs may reuse a private range).
 */
import { InvalidArgumentError, cidrSchema, ipv4Schema, parseOrThrow } from '@phoenix/shared';
import { z } from 'zod';
import {
  formatIpv4,
  parseAddressRange,
  parseIpv4,
  parseSubnet,
  subnetContains,
  usableHosts,
  type AddressRange,
  type Subnet,
} from './ipv4.js';

const nameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'names use letters, digits, . _ - (at most 63)');

export const ipPoolConfigSchema = z.object({
  name: nameSchema,
  /** `first-last`, inclusive, e.g. `10.0.0.100-10.0.0.199`. */
  range: z.string(),
});

export const networkConfigSchema = z.object({
  name: nameSchema,
  cidr: cidrSchema,
  gateway: ipv4Schema.optional(),
  /**
   * Addresses that belong to something outside Phoenix (hypervisor hosts, routers, DNS): never
   * handed out, and a static claim on one is rejected. Addresses, `first-last` ranges or CIDRs.
   */
  exclude: z.array(z.string()).optional(),
  /** Ranges automatic allocation draws from; with none, the whole usable subnet. */
  pools: z.array(ipPoolConfigSchema).optional(),
});
export type NetworkConfig = z.input<typeof networkConfigSchema>;

export class Network {
  readonly name: string;
  readonly cidr: string;
  readonly subnet: Subnet;
  readonly gateway: number | undefined;
  /** Sorted, merged, clipped to the subnet. */
  readonly excluded: readonly AddressRange[];
  readonly pools: ReadonlyMap<string, AddressRange>;

  private constructor(
    name: string,
    subnet: Subnet,
    gateway: number | undefined,
    excluded: AddressRange[],
    pools: Map<string, AddressRange>,
  ) {
    this.name = name;
    this.subnet = subnet;
    this.cidr = `${formatIpv4(subnet.network)}/${subnet.prefix}`;
    this.gateway = gateway;
    this.excluded = excluded;
    this.pools = pools;
  }

  static from(input: NetworkConfig): Network {
    const config = parseOrThrow(networkConfigSchema, input, 'network');
    const field = `networks.${config.name}`;
    const subnet = parseSubnet(config.cidr, `${field}.cidr`);
    const hosts = usableHosts(subnet);
    let gateway: number | undefined;
    if (config.gateway !== undefined) {
      gateway = parseIpv4(config.gateway, `${field}.gateway`);
      if (gateway < hosts.first || gateway > hosts.last) {
        throw new InvalidArgumentError(`${field}.gateway`, config.gateway, `must be a host address inside ${config.cidr}`);
      }
    }
    const excluded = mergeRanges(
      (config.exclude ?? []).map((spec, i) => parseAddressRange(spec, `${field}.exclude.${i}`)),
    )
      .map((r) => ({ first: Math.max(r.first, subnet.network), last: Math.min(r.last, subnet.broadcast) }))
      .filter((r) => r.first <= r.last);
    const pools = new Map<string, AddressRange>();
    for (const [i, pool] of (config.pools ?? []).entries()) {
      const range = parseAddressRange(pool.range, `${field}.pools.${i}.range`);
      if (range.first < hosts.first || range.last > hosts.last) {
        throw new InvalidArgumentError(`${field}.pools.${i}.range`, pool.range, `must lie inside the hosts of ${config.cidr}`);
      }
      if (pools.has(pool.name)) throw new InvalidArgumentError(`${field}.pools.${i}.name`, pool.name, 'duplicate pool name');
      pools.set(pool.name, range);
    }
    return new Network(config.name, subnet, gateway, excluded, pools);
  }

  /** Where automatic allocation draws from: the named pool, else every pool, else the usable subnet. */
  autoRanges(pool?: string): readonly AddressRange[] {
    if (pool !== undefined) {
      const range = this.pools.get(pool);
      if (!range) throw new InvalidArgumentError('pool', pool, `network ${this.name} has no such pool`);
      return [range];
    }
    return this.pools.size > 0 ? [...this.pools.values()] : [usableHosts(this.subnet)];
  }

  /** Why `address` may not be held by a guest on this network, or undefined when it may. */
  refusal(address: number): string | undefined {
    if (!subnetContains(this.subnet, address)) return `not inside network ${this.name} (${this.cidr})`;
    const hosts = usableHosts(this.subnet);
    if (address < hosts.first) return `is the network address of ${this.cidr}`;
    if (address > hosts.last) return `is the broadcast address of ${this.cidr}`;
    if (address === this.gateway) return `is the gateway of network ${this.name}`;
    if (this.isExcluded(address)) return `is excluded from network ${this.name}`;
    return undefined;
  }

  isExcluded(address: number): boolean {
    return this.excluded.some((r) => address >= r.first && address <= r.last);
  }

  /** The first address ≥ `from` within `range` that a guest may hold, skipping exclusions fast. */
  nextUsable(range: AddressRange, from: number): number | undefined {
    let a = Math.max(from, range.first);
    while (a <= range.last) {
      const ex = this.excluded.find((r) => a >= r.first && a <= r.last);
      if (ex) {
        a = ex.last + 1;
        continue;
      }
      if (this.refusal(a) === undefined) return a;
      a++;
    }
    return undefined;
  }
}

function mergeRanges(ranges: AddressRange[]): AddressRange[] {
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  const out: AddressRange[] = [];
  for (const r of sorted) {
    const prev = out.at(-1);
    if (prev && r.first <= prev.last + 1) out[out.length - 1] = { first: prev.first, last: Math.max(prev.last, r.last) };
    else out.push(r);
  }
  return out;
}
