import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { exitCodeOf } from '@phoenix/shared';
import type { PlannedHost } from '../plan/openshift.js';
import { compileSpec, type CompiledOpenShift } from '../spec/compile.js';
import { parseSpec } from '../spec/load.js';
import type { OpenShiftClusterSpec } from '../spec/openshift.js';
import { renderManifests, type AgentConfig, type InstallConfig, type ManifestInputs } from './index.js';

// Obviously fake: none of these would authenticate anywhere.
const INPUTS: ManifestInputs = {
  pullSecret: '{"auths":{"registry.invalid":{"auth":"ZmFrZTpmYWtl","email":"nobody@example.invalid"}}}',
  sshKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEZBS0UtS0VZLUZPUi1URVNUUy1PTkxZ fake@example.invalid',
};

type NodeIn = { name: string; role: 'control-plane' | 'worker'; rootDeviceWwn?: string };

function cluster(topology: OpenShiftClusterSpec['topology'], nodes: NodeIn[], extra: Record<string, unknown> = {}): CompiledOpenShift {
  const compiled = compileSpec(
    parseSpec({
      version: 1,
      cluster: { name: 'lab' },
      nodes: [{ name: 'pve1' }, { name: 'pve2' }, { name: 'pve3' }],
      openshift: [
        {
          name: 'ocp',
          topology,
          baseDomain: 'lab.example.org',
          version: '4.19.1',
          ...(topology === 'sno' ? {} : { apiVip: '10.0.0.20', ingressVip: '10.0.0.21' }),
          network: { machineCidr: '10.0.0.0/22', gateway: '10.0.0.1', nameservers: ['10.0.0.2', '10.0.0.3'] },
          roles: {
            controlPlane: { cores: 8, memoryMiB: 16384, diskGiB: 120 },
            worker: { cores: 4, memoryMiB: 16384, diskGiB: 120 },
          },
          nodes: nodes.map((n, i) => ({ ip: `10.0.1.${10 + i}`, ...n })), // the addresses hostsOf plans
          pullSecret: { store: 'kv', path: 'openshift/pull-secret' },
          sshKey: { store: 'kv', path: 'openshift/ssh-key' },
          ...extra,
        },
      ],
    }),
  );
  const [c] = compiled.openshift;
  if (c === undefined) throw new Error('no cluster compiled');
  return c;
}

const hostsOf = (nodes: NodeIn[]): PlannedHost[] =>
  nodes.map((n, i) => ({
    name: n.name,
    guestId: n.name,
    role: n.role,
    node: `pve${(i % 3) + 1}`,
    ip: `10.0.1.${10 + i}`,
    mac: `52:54:00:00:01:${(16 + i).toString(16)}`,
    rootDeviceWwn: n.rootDeviceWwn,
  }));

const cps = (n: number): NodeIn[] => Array.from({ length: n }, (_, i) => ({ name: `m${i + 1}`, role: 'control-plane' as const }));
const workers = (n: number): NodeIn[] => Array.from({ length: n }, (_, i) => ({ name: `w${i + 1}`, role: 'worker' as const }));

function render(topology: OpenShiftClusterSpec['topology'], nodes: NodeIn[], extra: Record<string, unknown> = {}, inputs = INPUTS) {
  const out = renderManifests(cluster(topology, nodes, extra), hostsOf(nodes), inputs);
  return { ...out, install: parse(out.installConfig) as InstallConfig, agent: parse(out.agentConfig) as AgentConfig };
}

describe('renderManifests', () => {
  it('gives a single-node cluster platform none, one control plane and no workers', () => {
    const { install, agent } = render('sno', cps(1));
    expect(install.platform).toEqual({ none: {} });
    expect(install.controlPlane).toMatchObject({ name: 'master', replicas: 1 });
    expect(install.compute).toEqual([{ architecture: 'amd64', hyperthreading: 'Enabled', name: 'worker', replicas: 0 }]);
    expect(agent.hosts.map((h) => h.role)).toEqual(['master']);
    expect(agent.rendezvousIP).toBe('10.0.1.10');
  });

  it('gives a compact cluster the VIPs on platform baremetal and no workers', () => {
    const { install } = render('compact', cps(3));
    expect(install.platform).toEqual({ baremetal: { apiVIPs: ['10.0.0.20'], ingressVIPs: ['10.0.0.21'] } });
    expect(install.controlPlane.replicas).toBe(3);
    expect(install.compute[0]?.replicas).toBe(0);
  });

  it('counts the workers of a multi-node cluster as compute replicas', () => {
    for (const [cp, w] of [[3, 2], [3, 3], [5, 4]] as const) {
      const { install, agent } = render('multi-node', [...cps(cp), ...workers(w)]);
      expect([install.controlPlane.replicas, install.compute[0]?.replicas]).toEqual([cp, w]);
      expect(agent.hosts.filter((h) => h.role === 'worker').length).toBe(w);
    }
  });

  it('takes networks, domain and name from the spec', () => {
    const { install, agent } = render('compact', cps(3));
    expect(install).toMatchObject({ apiVersion: 'v1', baseDomain: 'lab.example.org', metadata: { name: 'ocp' } });
    expect(install.networking).toEqual({
      clusterNetwork: [{ cidr: '10.128.0.0/14', hostPrefix: 23 }],
      machineNetwork: [{ cidr: '10.0.0.0/22' }],
      networkType: 'OVNKubernetes',
      serviceNetwork: ['172.30.0.0/16'],
    });
    expect(agent).toMatchObject({ apiVersion: 'v1beta1', kind: 'AgentConfig', metadata: { name: 'ocp' } });
  });

  it('gives every host its MAC, its address with the machine network prefix, DNS and the default route', () => {
    const nodes = [...cps(3), ...workers(2)];
    const { agent } = render('multi-node', nodes);
    const hosts = hostsOf(nodes);
    expect(agent.hosts.map((h) => [h.hostname, h.interfaces, h.networkConfig.interfaces[0]?.['mac-address'], h.networkConfig.interfaces[0]?.ipv4.address])).toEqual(
      hosts.map((h) => [h.name, [{ name: 'ens18', macAddress: h.mac }], h.mac, [{ ip: h.ip, 'prefix-length': 22 }]]),
    );
    for (const h of agent.hosts) {
      expect(h.networkConfig.interfaces[0]).toMatchObject({ name: 'ens18', type: 'ethernet', state: 'up', ipv4: { enabled: true, dhcp: false }, ipv6: { enabled: false } });
      expect(h.networkConfig['dns-resolver']).toEqual({ config: { server: ['10.0.0.2', '10.0.0.3'] } });
      expect(h.networkConfig.routes.config).toEqual([{ destination: '0.0.0.0/0', 'next-hop-address': '10.0.0.1', 'next-hop-interface': 'ens18', 'table-id': 254 }]);
    }
  });

  it('names the root disk by wwn only for hosts that have one, quoted so it stays a string', () => {
    const nodes: NodeIn[] = [...cps(3), { name: 'w1', role: 'worker', rootDeviceWwn: '0x5000c50000000004' }, { name: 'w2', role: 'worker' }];
    const { agent, agentConfig } = render('multi-node', nodes);
    expect(agent.hosts.map((h) => h.rootDeviceHints)).toEqual([undefined, undefined, undefined, { wwn: '0x5000c50000000004' }, undefined]);
    expect(agentConfig).toContain('wwn: "0x5000c50000000004"');
  });

  it('meets at the spec rendezvous IP, else at the first control-plane host', () => {
    const nodes = [...cps(3), ...workers(2)];
    expect(render('multi-node', nodes).agent.rendezvousIP).toBe('10.0.1.10');
    const withIps = nodes.map((n, i) => ({ ...n, ip: `10.0.1.${10 + i}` }));
    const c = cluster('multi-node', withIps, { rendezvousIp: '10.0.1.12' });
    expect((parse(renderManifests(c, hostsOf(nodes), INPUTS).agentConfig) as AgentConfig).rendezvousIP).toBe('10.0.1.12');
  });

  it('puts no VLAN interface in the guest when the network has a VLAN (Proxmox tags the port)', () => {
    const { agent } = render('compact', cps(3), {
      network: { machineCidr: '10.0.0.0/22', gateway: '10.0.0.1', nameservers: ['10.0.0.2'], vlan: 42 },
    });
    for (const h of agent.hosts) expect(h.networkConfig.interfaces.map((i) => i.type)).toEqual(['ethernet']);
  });

  it('carries the secrets and the trust bundle only when given', () => {
    const { install, installConfig } = render('sno', cps(1));
    expect([install.pullSecret, install.sshKey]).toEqual([INPUTS.pullSecret, INPUTS.sshKey]);
    expect(installConfig).not.toContain('additionalTrustBundle');
    const bundle = '-----BEGIN CERTIFICATE-----\nRkFLRSBDRVJUSUZJQ0FURQ==\n-----END CERTIFICATE-----\n';
    expect(render('sno', cps(1), {}, { ...INPUTS, trustBundle: bundle }).install.additionalTrustBundle).toBe(bundle);
  });

  it('quotes values that YAML 1.1 readers (the installer) would not read as strings', () => {
    const nodes: NodeIn[] = [{ name: 'on', role: 'control-plane' }];
    const c = cluster('sno', nodes);
    const hosts = hostsOf(nodes).map((h) => ({ ...h, mac: '52:54:00:12:34:56' }));
    const out = renderManifests(c, hosts, INPUTS);
    const agent = parse(out.agentConfig, { version: '1.1' }) as AgentConfig;
    expect(agent.hosts[0]?.hostname).toBe('on');
    expect(agent.hosts[0]?.interfaces[0]?.macAddress).toBe('52:54:00:12:34:56');
  });

  it('writes hosts in the spec order whatever order the plan lists them in', () => {
    const nodes = [...cps(3), ...workers(2)];
    const c = cluster('multi-node', nodes);
    const out = renderManifests(c, [...hostsOf(nodes)].reverse(), INPUTS);
    expect((parse(out.agentConfig) as AgentConfig).hosts.map((h) => h.hostname)).toEqual(['m1', 'm2', 'm3', 'w1', 'w2']);
  });

  it('refuses hosts that do not match the cluster, naming the host', () => {
    const nodes = cps(3);
    const c = cluster('compact', nodes);
    const hosts = hostsOf(nodes);
    const fail = (h: PlannedHost[]) => {
      try {
        renderManifests(c, h, INPUTS);
      } catch (err) {
        return { exit: exitCodeOf(err), message: (err as Error).message };
      }
      return undefined;
    };
    expect(fail(hosts.slice(0, 2))).toEqual({ exit: 2, message: expect.stringContaining('m3') as unknown });
    expect(fail([...hosts, { ...hosts[0]!, name: 'stray' }])?.message).toContain('stray');
    expect(fail(hosts.map((h, i) => (i === 1 ? { ...h, ip: '' } : h)))?.message).toContain('openshift.ocp.hosts.m2.ip');
    expect(fail(hosts.map((h, i) => (i === 2 ? { ...h, mac: '' } : h)))?.message).toContain('openshift.ocp.hosts.m3.mac');
    expect(fail(hosts.map((h, i) => (i === 0 ? { ...h, role: 'worker' as const } : h)))?.message).toContain('openshift.ocp.hosts.m1.role');
  });
});
