import type { OpenShiftClusterSpec } from './openshift.js';
import { addressOf, intToIp, parseCidr } from './ip.js';

/**
 * Defaults stage for OpenShift node addresses: a node without `ip` gets the lowest free address of
 * its cluster's machine network, in node order. Free means not the network or broadcast address,
 * the gateway, a VIP, a nameserver, another node's address (any cluster) or another guest's static
 * address. Depends on the spec alone, so the address is stable from one apply to the next; the
 * manifests, the rendezvous IP and the planned hosts all read it.
 */
export function withNodeAddresses(clusters: readonly OpenShiftClusterSpec[], guestAddresses: readonly (string | undefined)[]): OpenShiftClusterSpec[] {
  const taken = new Set<string>();
  const take = (ip: string | undefined) => {
    if (ip !== undefined && ip !== 'dhcp') taken.add(addressOf(ip));
  };
  guestAddresses.forEach(take);
  for (const c of clusters) {
    [c.network.gateway, c.apiVip, c.ingressVip, c.rendezvousIp, ...c.network.nameservers].forEach(take);
    c.nodes.forEach((n) => take(n.ip));
  }
  return clusters.map((c) => {
    if (c.nodes.every((n) => n.ip !== undefined)) return c;
    const subnet = parseCidr(c.network.machineCidr);
    const last = (subnet.network | (~subnet.mask >>> 0)) >>> 0;
    let next = subnet.network + 1;
    const nextFree = (): string | undefined => {
      for (; next < last; next++) {
        const ip = intToIp(next);
        if (!taken.has(ip)) {
          taken.add(ip);
          next++;
          return ip;
        }
      }
      return undefined; // machine network full: compile reports the node's ip
    };
    return { ...c, nodes: c.nodes.map((n) => (n.ip !== undefined ? n : { ...n, ip: nextFree() })) };
  });
}
