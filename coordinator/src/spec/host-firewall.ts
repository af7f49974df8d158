/**
 * A host profile's `firewall` → the PVE firewall levels the agent converges. Pure.
 *
 * Where things go:
 * - cluster.fw (datacenter, /cluster/firewall) holds the options PVE has only there: `enable`,
 *   `policy_in`, `policy_out`. They act on every node, so every node's profile must agree on them;
 *   each node's setup then writes the same values, which is idempotent. Phoenix puts no rules there.
 * - host.fw (/nodes/<node>/firewall) holds the profile's rules and the node's `enable`: a profile
 *   belongs to nodes, and its rules name that node's addresses.
 *
 * Safety: an enabled firewall whose input policy is not ACCEPT keeps the Proxmox API (8006/tcp) and
 * SSH (22/tcp) reachable from the management network. When the profile has no rule for that, one is
 * added at the top of host.fw and a warning says so; when no management network is known (no host
 * bridge address), the profile is refused, naming `firewall.policyIn`.
 */
import type { agentv1 } from '@phoenix/shared';
import type { CompiledSpec } from './compile.js';
import type { HostCompileIssue } from './host-compile.js';
import type { HostSetup } from './host.js';
import { addressOf, inSubnet, intToIp, parseCidr, type Subnet } from './ip.js';
import type { FirewallRule } from './primitives.js';

/** Marks Phoenix's rules; rules without it are hand-made and left alone. */
export const FIREWALL_MARKER = 'phoenix:';
const MANAGEMENT_PORTS = [8006, 22];
const MANAGEMENT_COMMENT = 'keep the Proxmox API (8006) and SSH (22) reachable from the management network';

export interface CompiledFirewall {
  firewall: agentv1.HostFirewallSpec | undefined;
  warnings: HostCompileIssue[];
  errors: HostCompileIssue[];
}

type Firewall = NonNullable<HostSetup['firewall']>;

export function compileFirewall(spec: CompiledSpec, nodeName: string, profileName: string, profile: HostSetup): CompiledFirewall {
  const fw = profile.firewall;
  const out: CompiledFirewall = { firewall: undefined, warnings: [], errors: [] };
  if (!fw) return out;
  const base = `hostProfiles.${profileName}.firewall`;
  checkSameDatacenterOptions(spec, nodeName, profileName, fw, out.errors);

  const rules: agentv1.FirewallRuleSpec[] = fw.rules.map(ruleSpec);
  if (fw.enabled && fw.policyIn !== 'ACCEPT') {
    const mgmt = managementNetwork(spec, nodeName, profile);
    const open = MANAGEMENT_PORTS.every((port) => fw.rules.some((r) => acceptsFrom(r, port, mgmt)));
    if (!open) {
      if (mgmt === undefined) {
        out.errors.push({
          path: `${base}.policyIn`,
          message: `${fw.policyIn} with the firewall enabled and no rule accepting 8006/tcp and 22/tcp: the node would lock out its API and SSH, and no management network is known to open them for (give hostProfiles.${profileName}.network.bridges an address, or add the rule)`,
        });
      } else {
        const cidr = `${intToIp(mgmt.network)}/${mgmt.prefix}`;
        rules.unshift({ type: 'in', action: 'ACCEPT', source: cidr, dest: '', proto: 'tcp', dport: '22,8006', comment: `${FIREWALL_MARKER} ${MANAGEMENT_COMMENT}` });
        out.warnings.push({
          path: `${base}.policyIn`,
          message: `${fw.policyIn} with no rule accepting 8006/tcp and 22/tcp from the management network ${cidr}: node setup adds "IN ACCEPT -source ${cidr} -p tcp -dport 22,8006" at the top of host.fw`,
        });
      }
    }
  }

  const enable = fw.enabled ? '1' : '0';
  out.firewall = {
    cluster: { options: { enable, policy_in: fw.policyIn, policy_out: fw.policyOut }, rules: [] },
    host: { options: { enable }, rules },
  };
  return out;
}

/** The datacenter options act on every node: the profiles of all nodes must say the same. */
function checkSameDatacenterOptions(spec: CompiledSpec, nodeName: string, profileName: string, fw: Firewall, errors: HostCompileIssue[]): void {
  const base = `hostProfiles.${profileName}.firewall`;
  for (const other of spec.nodes) {
    if (other.name === nodeName || other.hostProfile === profileName) continue;
    const theirs = other.hostProfile === undefined ? undefined : spec.hostProfiles[other.hostProfile]?.firewall;
    if (!theirs) {
      errors.push({
        path: base,
        message: `the datacenter firewall options (cluster.fw) act on every node, and node ${other.name} has ${other.hostProfile === undefined ? 'no host profile' : `no firewall in hostProfiles.${other.hostProfile}`}; give it the same enabled, policyIn and policyOut`,
      });
      continue;
    }
    for (const key of ['enabled', 'policyIn', 'policyOut'] as const) {
      if (theirs[key] === fw[key]) continue;
      errors.push({
        path: `${base}.${key}`,
        message: `${String(fw[key])} here but ${String(theirs[key])} in hostProfiles.${other.hostProfile ?? ''} (node ${other.name}); the datacenter firewall options (cluster.fw) are one for all nodes`,
      });
    }
  }
}

/** The network of the host bridge address that holds the node's address, else of the first bridge address. */
function managementNetwork(spec: CompiledSpec, nodeName: string, profile: HostSetup): Subnet | undefined {
  const addresses = (profile.network?.bridges ?? []).flatMap((b) => (b.address === undefined ? [] : [b.address]));
  const nodeAddress = addressOf((spec.nodes.find((n) => n.name === nodeName)?.address ?? '').replace(/:\d+$/, ''));
  const isIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(nodeAddress);
  const chosen = addresses.find((a) => isIp && inSubnet(nodeAddress, parseCidr(a))) ?? addresses[0];
  return chosen === undefined ? undefined : parseCidr(chosen);
}

/** Whether the rule accepts `port`/tcp coming in from the whole management network (any source when none is known). */
function acceptsFrom(r: FirewallRule, port: number, mgmt: Subnet | undefined): boolean {
  if (r.direction !== 'in' || r.action !== 'ACCEPT' || r.dest !== undefined) return false;
  if (r.proto !== undefined && r.proto !== 'tcp') return false;
  if (r.port !== undefined && !r.port.split(',').some((p) => inPortRange(p, port))) return false;
  if (r.source === undefined) return true;
  if (mgmt === undefined) return false;
  const src = parseCidr(r.source);
  return src.prefix <= mgmt.prefix && ((mgmt.network & src.mask) >>> 0) === src.network;
}

function inPortRange(item: string, port: number): boolean {
  const [a = '', b = a] = item.split(':');
  return Number(a) <= port && port <= Number(b);
}

function ruleSpec(r: FirewallRule): agentv1.FirewallRuleSpec {
  // The comment ends the rule's line in host.fw: one line, no edge spaces.
  const note = (r.comment ?? '').replace(/\p{Cc}+/gu, ' ').trim();
  return {
    type: r.direction,
    action: r.action,
    source: r.source ?? '',
    dest: r.dest ?? '',
    proto: r.proto ?? '',
    dport: r.port ?? '',
    comment: note === '' ? FIREWALL_MARKER : `${FIREWALL_MARKER} ${note}`,
  };
}
