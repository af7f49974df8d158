import { aggregate, forbidden, invalid, required, type FieldError } from './field-errors.js';
import type { InstallConfig } from './install-config.js';
import { inAnyCidr, isIp } from './ip.js';
import { field, list, obj, str, type Doc } from './yaml-fields.js';

/** agent-config.yaml (types/agent.Config): the rendezvous host and the hosts with their MACs. */
export interface AgentHost {
  hostname: string;
  role: string;
  macs: string[];
  /** IPv4 addresses of the host's nmstate networkConfig. */
  ips: string[];
}

export interface AgentConfig {
  rendezvousIP: string;
  hosts: AgentHost[];
  /** Interfaces as written, for the per-interface checks. */
  rawHosts: Doc[];
}

function hostIps(host: unknown): string[] {
  const out: string[] = [];
  for (const iface of list(obj(host, 'networkConfig'), 'interfaces')) {
    for (const a of list(obj(iface, 'ipv4'), 'address')) {
      const ip = str(a, 'ip');
      if (ip) out.push(ip);
    }
  }
  return out;
}

export function readAgentConfig(doc: Doc): AgentConfig {
  const rawHosts = list(doc, 'hosts').filter((h): h is Doc => h !== null && typeof h === 'object');
  return {
    rendezvousIP: str(doc, 'rendezvousIP'),
    hosts: rawHosts.map((h) => ({
      hostname: str(h, 'hostname'),
      role: str(h, 'role'),
      macs: list(h, 'interfaces').map((i) => str(i, 'macAddress').toLowerCase()),
      ips: hostIps(h),
    })),
    rawHosts,
  };
}

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** AgentConfig.finish: each host has interfaces with MACs and a known role. */
export function validateAgentConfig(ac: AgentConfig, ic: InstallConfig): string | undefined {
  const errs: FieldError[] = [];
  if (ac.rendezvousIP !== '') {
    if (!isIp(ac.rendezvousIP)) errs.push(invalid('rendezvousIP', ac.rendezvousIP, `${JSON.stringify(ac.rendezvousIP)} is not a valid IP`));
    // Node zero serves the agent API to every host: it must sit on the machine network (worded like the VIP check).
    else if (!inAnyCidr(ac.rendezvousIP, ic.machineNetworks)) {
      errs.push(invalid('rendezvousIP', ac.rendezvousIP, `IP expected to be in one of the machine networks: ${ic.machineNetworks.join(',')}`));
    }
  }
  ac.rawHosts.forEach((h, i) => {
    const path = `Spec.Hosts[${i}].Interfaces`;
    const ifaces = list(h, 'interfaces');
    if (ifaces.length === 0) errs.push(required(path, 'at least one interface must be defined for each node'));
    ifaces.forEach((iface, j) => {
      if (str(iface, 'macAddress') === '') errs.push(required(`${path}[${j}].macAddress`, 'each interface must have a MAC address defined'));
    });
    const role = str(h, 'role');
    if (role !== '' && role !== 'master' && role !== 'worker') {
      errs.push(forbidden(`Spec.Hosts[${i}].Host`, "host role has incorrect value. Role must either be 'master' or 'worker'"));
    }
  });
  const agg = aggregate(errs);
  return agg === undefined ? undefined : `invalid Agent Config configuration: ${agg}`;
}

/** AgentHosts.validateAgentHosts: MAC syntax and uniqueness, rendezvous IP not on a worker. */
export function validateAgentHosts(ac: AgentConfig): string | undefined {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  ac.rawHosts.forEach((h, i) => {
    list(h, 'interfaces').forEach((iface, j) => {
      const mac = str(iface, 'macAddress');
      if (mac === '') return;
      const path = `Hosts[${i}].Interfaces[${j}].macAddress`;
      if (!MAC_RE.test(mac)) errs.push(invalid(path, mac, `address ${mac}: invalid MAC address`));
      if (seen.has(mac)) errs.push(invalid(path, mac, 'duplicate MAC address found'));
      seen.add(mac);
    });
    const host = ac.hosts[i];
    if (host && ac.rendezvousIP !== '' && host.role === 'worker' && JSON.stringify(field(h, 'networkConfig') ?? '').includes(ac.rendezvousIP)) {
      errs.push(
        forbidden(`Hosts[${i}].Host`, `Host ${host.hostname} has role 'worker' and has the rendezvousIP assigned to it. The rendezvousIP must be assigned to a control plane host.`),
      );
    }
  });
  const agg = aggregate(errs);
  return agg === undefined ? undefined : `invalid Hosts configuration: ${agg}`;
}

/** The host counts the Ignition asset compares with the replicas of install-config. */
export function validateHostCounts(ac: AgentConfig, ic: InstallConfig): string | undefined {
  const masters = ac.hosts.filter((h) => h.role === 'master').length;
  const workers = ac.hosts.filter((h) => h.role === 'worker').length;
  if (masters > ic.controlPlaneReplicas) return `the number of master hosts defined (${masters}) exceeds the configured ControlPlane replicas (${ic.controlPlaneReplicas})`;
  if (workers > ic.computeReplicas) return `the number of worker hosts defined (${workers}) exceeds the configured Compute replicas (${ic.computeReplicas})`;
  const total = ic.controlPlaneReplicas + ic.computeReplicas;
  if (ac.hosts.length > total) return `the number of hosts defined (${ac.hosts.length}) exceeds the configured ControlPlane and Compute replicas (${total})`;
  return undefined;
}

/** Hosts without a role become masters until the control plane is full, then workers (as assisted-service assigns them). */
export function assignRoles(hosts: AgentHost[], controlPlaneReplicas: number): AgentHost[] {
  let masters = hosts.filter((h) => h.role === 'master').length;
  return hosts.map((h, i) => {
    if (h.role !== '') return { ...h, hostname: h.hostname || `host-${i}` };
    const role = masters < controlPlaneReplicas ? 'master' : 'worker';
    if (role === 'master') masters++;
    return { ...h, role, hostname: h.hostname || `host-${i}` };
  });
}

/** The rendezvous IP when agent-config names none: the first address of the first non-worker host. */
export function chooseRendezvousIP(ac: AgentConfig): string | undefined {
  if (ac.rendezvousIP) return ac.rendezvousIP;
  return ac.hosts.find((h) => h.role !== 'worker' && h.ips.length > 0)?.ips[0];
}
