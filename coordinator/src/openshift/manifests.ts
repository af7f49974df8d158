/**
 * The agent-based installer's two inputs, install-config.yaml (v1) and agent-config.yaml
 * (v1beta1), from a compiled cluster and its planned hosts. Pure: the same cluster, hosts and
 * secrets always give the same text. The text holds the pull secret and the SSH key, so it goes to
 * the install directory only, never to a log.
 */
import { stringify } from 'yaml';
import { InvalidArgumentError } from '@phoenix/shared';
import type { PlannedHost } from '../plan/openshift.js';
import type { CompiledOpenShift } from '../spec/compile.js';
import { parseCidr } from '../spec/ip.js';

export interface ManifestInputs {
  /** The pull secret's JSON text, as the installer takes it. */
  readonly pullSecret: string;
  /** The public key put on every node for user `core`. */
  readonly sshKey: string;
  /** PEM bundle of extra CAs; left out of install-config when absent. */
  readonly trustBundle?: string;
}

export interface RenderedManifests {
  readonly installConfig: string;
  readonly agentConfig: string;
}

interface MachinePool {
  readonly architecture: 'amd64';
  readonly hyperthreading: 'Enabled';
  readonly name: 'master' | 'worker';
  readonly replicas: number;
}

export interface InstallConfig {
  readonly apiVersion: 'v1';
  readonly baseDomain: string;
  readonly metadata: { readonly name: string };
  readonly compute: readonly MachinePool[];
  readonly controlPlane: MachinePool;
  readonly networking: {
    readonly clusterNetwork: readonly { readonly cidr: string; readonly hostPrefix: number }[];
    readonly machineNetwork: readonly { readonly cidr: string }[];
    readonly networkType: string;
    readonly serviceNetwork: readonly string[];
  };
  readonly platform:
    | { readonly none: Record<string, never> }
    | { readonly baremetal: { readonly apiVIPs: readonly string[]; readonly ingressVIPs: readonly string[] } };
  readonly fips: false;
  readonly pullSecret: string;
  readonly sshKey: string;
  readonly additionalTrustBundle?: string;
}

/** One host's network in nmstate's schema (what the agent applies before it reports in). */
export interface NmstateConfig {
  readonly interfaces: readonly {
    readonly name: string;
    readonly type: 'ethernet';
    readonly state: 'up';
    readonly 'mac-address': string;
    readonly ipv4: {
      readonly enabled: true;
      readonly address: readonly { readonly ip: string; readonly 'prefix-length': number }[];
      readonly dhcp: false;
    };
    readonly ipv6: { readonly enabled: false };
  }[];
  readonly 'dns-resolver': { readonly config: { readonly server: readonly string[] } };
  readonly routes: {
    readonly config: readonly {
      readonly destination: string;
      readonly 'next-hop-address': string;
      readonly 'next-hop-interface': string;
      readonly 'table-id': number;
    }[];
  };
}

export interface AgentHost {
  readonly hostname: string;
  readonly role: 'master' | 'worker';
  readonly interfaces: readonly { readonly name: string; readonly macAddress: string }[];
  readonly rootDeviceHints?: { readonly wwn: string };
  readonly networkConfig: NmstateConfig;
}

export interface AgentConfig {
  readonly apiVersion: 'v1beta1';
  readonly kind: 'AgentConfig';
  readonly metadata: { readonly name: string };
  readonly rendezvousIP: string;
  readonly hosts: readonly AgentHost[];
}

/** The main routing table, as nmstate numbers it. */
const MAIN_ROUTE_TABLE = 254;

export function renderManifests(cluster: CompiledOpenShift, hosts: readonly PlannedHost[], inputs: ManifestInputs): RenderedManifests {
  const ordered = hostsInNodeOrder(cluster, hosts);
  return { installConfig: toYaml(installConfigOf(cluster, ordered, inputs)), agentConfig: toYaml(agentConfigOf(cluster, ordered)) };
}

export function installConfigOf(cluster: CompiledOpenShift, hosts: readonly PlannedHost[], inputs: ManifestInputs): InstallConfig {
  const { spec } = cluster;
  const count = (role: PlannedHost['role']) => hosts.filter((h) => h.role === role).length;
  const platform: InstallConfig['platform'] =
    spec.topology === 'sno'
      ? { none: {} }
      : { baremetal: { apiVIPs: [required(spec.apiVip, 'apiVip', spec.name)], ingressVIPs: [required(spec.ingressVip, 'ingressVip', spec.name)] } };
  return {
    apiVersion: 'v1',
    baseDomain: spec.baseDomain,
    metadata: { name: spec.name },
    compute: [{ architecture: 'amd64', hyperthreading: 'Enabled', name: 'worker', replicas: count('worker') }],
    controlPlane: { architecture: 'amd64', hyperthreading: 'Enabled', name: 'master', replicas: count('control-plane') },
    networking: {
      clusterNetwork: [{ cidr: spec.network.clusterCidr, hostPrefix: spec.network.hostPrefix }],
      machineNetwork: [{ cidr: spec.network.machineCidr }],
      networkType: spec.network.networkType,
      serviceNetwork: [spec.network.serviceCidr],
    },
    platform,
    fips: false,
    pullSecret: inputs.pullSecret,
    sshKey: inputs.sshKey,
    ...(inputs.trustBundle === undefined ? {} : { additionalTrustBundle: inputs.trustBundle }),
  };
}

export function agentConfigOf(cluster: CompiledOpenShift, hosts: readonly PlannedHost[]): AgentConfig {
  const { spec } = cluster;
  const firstControlPlane = hosts.find((h) => h.role === 'control-plane');
  return {
    apiVersion: 'v1beta1',
    kind: 'AgentConfig',
    metadata: { name: spec.name },
    rendezvousIP: cluster.rendezvousIp ?? required(firstControlPlane?.ip, 'rendezvousIp', spec.name),
    hosts: hosts.map((h) => agentHostOf(cluster, h)),
  };
}

/**
 * A host's static IPv4 network. No VLAN interface even when the cluster network has a VLAN:
 * Proxmox tags the VM's port on the bridge (net0 tag=), so the guest sees untagged frames.
 */
function agentHostOf(cluster: CompiledOpenShift, host: PlannedHost): AgentHost {
  const net = cluster.spec.network;
  return {
    hostname: host.name,
    role: host.role === 'control-plane' ? 'master' : 'worker',
    interfaces: [{ name: net.interface, macAddress: host.mac }],
    ...(host.rootDeviceWwn === undefined ? {} : { rootDeviceHints: { wwn: host.rootDeviceWwn } }),
    networkConfig: {
      interfaces: [
        {
          name: net.interface,
          type: 'ethernet',
          state: 'up',
          'mac-address': host.mac,
          ipv4: { enabled: true, address: [{ ip: host.ip, 'prefix-length': parseCidr(net.machineCidr).prefix }], dhcp: false },
          ipv6: { enabled: false },
        },
      ],
      'dns-resolver': { config: { server: [...net.nameservers] } },
      routes: {
        config: [{ destination: '0.0.0.0/0', 'next-hop-address': net.gateway, 'next-hop-interface': net.interface, 'table-id': MAIN_ROUTE_TABLE }],
      },
    },
  };
}

/** The planned host of every node of the cluster, in the spec's node order, each with an address and a MAC. */
function hostsInNodeOrder(cluster: CompiledOpenShift, hosts: readonly PlannedHost[]): PlannedHost[] {
  const name = cluster.spec.name;
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const stray = hosts.find((h) => !cluster.spec.nodes.some((n) => n.name === h.name));
  if (stray !== undefined) throw new InvalidArgumentError(`openshift.${name}.hosts`, stray.name, 'not a node of this cluster');
  return cluster.spec.nodes.map((n) => {
    const h = byName.get(n.name);
    if (h === undefined) throw new InvalidArgumentError(`openshift.${name}.hosts`, n.name, 'node has no planned host');
    if (h.ip === '') throw new InvalidArgumentError(`openshift.${name}.hosts.${n.name}.ip`, h.ip, 'no address planned');
    if (h.mac === '') throw new InvalidArgumentError(`openshift.${name}.hosts.${n.name}.mac`, h.mac, 'no MAC planned');
    if (h.role !== n.role) throw new InvalidArgumentError(`openshift.${name}.hosts.${n.name}.role`, h.role, `the spec says ${n.role}`);
    return h;
  });
}

function required(value: string | undefined, field: string, cluster: string): string {
  if (value === undefined || value === '') throw new InvalidArgumentError(`openshift.${cluster}.${field}`, value, 'required to render the manifests');
  return value;
}

/**
 * The installer reads YAML by YAML 1.1's rules (go-yaml v2), where `no` or `on` is a boolean:
 * writing by the same rules quotes every such string. No line folding, so the pull secret and the
 * key stay on one line each.
 */
function toYaml(doc: object): string {
  return stringify(doc, { version: '1.1', lineWidth: 0, indent: 2, aliasDuplicateObjects: false });
}
