import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '@phoenix/shared';
import { compileSpec } from './compile.js';
import { SpecError } from './errors.js';
import { parseSpec } from './load.js';
import type { SpecInput } from './spec.js';

type ClusterInput = NonNullable<SpecInput['openshift']>[number];
type NodeInput = ClusterInput['nodes'][number];

const ref = { store: 'vault' as const, path: 'secrets/data/openshift/pull', key: 'secret' };

function cp(n: number, extra: Partial<NodeInput> = {}): NodeInput {
  return { name: `m${n}`, role: 'control-plane', ip: `10.0.0.${30 + n}`, mac: `02:00:00:00:00:${(0x10 + n).toString(16)}`, ...extra };
}
function worker(n: number, extra: Partial<NodeInput> = {}): NodeInput {
  return { name: `w${n}`, role: 'worker', ip: `10.0.0.${40 + n}`, mac: `02:00:00:00:01:${(0x10 + n).toString(16)}`, ...extra };
}

function cluster(over: Partial<ClusterInput>): ClusterInput {
  return {
    name: 'ocp',
    topology: 'multi-node',
    baseDomain: 'lab.example.org',
    version: '4.19.1',
    apiVip: '10.0.0.20',
    ingressVip: '10.0.0.21',
    network: { machineCidr: '10.0.0.0/24', gateway: '10.0.0.1', nameservers: ['10.0.0.1'] },
    roles: {
      controlPlane: { cores: 8, memoryMiB: 16384, diskGiB: 120 },
      worker: { cores: 2, memoryMiB: 8192, diskGiB: 100 },
    },
    nodes: [cp(1), cp(2), cp(3), worker(1), worker(2)],
    pullSecret: ref,
    sshKey: ref,
    ...over,
  };
}

function spec(...clusters: ClusterInput[]): SpecInput {
  return { version: 1, cluster: { name: 'lab' }, nodes: [{ name: 'pve1' }, { name: 'pve2' }, { name: 'pve3' }], openshift: clusters };
}

function errorsOf(input: SpecInput): string[] {
  try {
    compileSpec(parseSpec(input));
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    expect(exitCodeOf(err)).toBe(2);
    return [...(err as SpecError).lines];
  }
  throw new Error('expected the spec to be rejected');
}

describe('OpenShift validation as the agent-based installer does it', () => {
  it('accepts the documented minimum sizes for every topology', () => {
    const sno = cluster({ name: 'sno', topology: 'sno', nodes: [cp(7)], roles: { controlPlane: { cores: 8, memoryMiB: 16384, diskGiB: 120 } } });
    delete sno.apiVip;
    delete sno.ingressVip;
    const compact = cluster({ name: 'compact', nodes: [cp(4), cp(5), cp(6)], topology: 'compact', apiVip: '10.0.0.22', ingressVip: '10.0.0.23' });
    const ha = cluster({ name: 'ha', apiVip: '10.0.0.24', ingressVip: '10.0.0.25' });
    const compiled = compileSpec(parseSpec(spec(sno, compact, ha)));
    expect(compiled.openshift.map((c) => [c.spec.name, c.controlPlane.length, c.workers.length])).toEqual([
      ['sno', 1, 0],
      ['compact', 3, 0],
      ['ha', 3, 2],
    ]);
    expect(compiled.openshift.every((c) => c.spec.network.networkType === 'OVNKubernetes')).toBe(true);
  });

  it('accepts 4 and 5 control-plane nodes (installer 4.18 and later)', () => {
    for (const n of [4, 5]) {
      const nodes = [...Array.from({ length: n }, (_, i) => cp(i + 1)), worker(1), worker(2)];
      expect(compileSpec(parseSpec(spec(cluster({ nodes })))).openshift[0]?.controlPlane).toHaveLength(n);
    }
  });

  it('refuses a control-plane count the installer refuses, naming the path', () => {
    const lines = errorsOf(spec(cluster({ nodes: [cp(1), cp(2), worker(1), worker(2)] })));
    expect(lines).toContain(
      'openshift.0.nodes: the installer accepts 5, 4, 3 or 1 control-plane nodes (ControlPlane.Replicas), found 2 (got "2 control-plane")',
    );
    expect(errorsOf(spec(cluster({ nodes: [1, 2, 3, 4, 5, 6].map((i) => cp(i)).concat(worker(1), worker(2)) })))[0]).toContain('found 6');
  });

  it('needs at least two workers for an HA cluster and none for a single node', () => {
    expect(errorsOf(spec(cluster({ nodes: [cp(1), cp(2), cp(3), worker(1)] })))).toContain(
      'openshift.0.nodes: topology multi-node needs 3 to 5 control-plane nodes and at least 2 workers (got "3 control-plane, 1 worker")',
    );
    const sno = cluster({ topology: 'sno', nodes: [cp(1), worker(1)] });
    expect(errorsOf(spec(sno))).toContain(
      'openshift.0.nodes: topology sno needs 1 control-plane node and no workers (platform none) (got "1 control-plane, 1 worker")',
    );
  });

  it('allows only OVNKubernetes as the network type', () => {
    const c = cluster({});
    const lines = errorsOf(spec({ ...c, network: { ...c.network, networkType: 'OpenShiftSDN' } }));
    expect(lines).toEqual(['openshift.0.network.networkType: only OVNKubernetes is supported by the agent-based installer (got "OpenShiftSDN")']);
  });

  it('keeps the VIPs inside the machine network', () => {
    expect(errorsOf(spec(cluster({ apiVip: '10.1.0.20' })))).toContain('openshift.0.apiVip: not inside 10.0.0.0/24 (got "10.1.0.20")');
  });

  it('refuses a MAC used twice, within a cluster and across clusters', () => {
    const lines = errorsOf(spec(cluster({ nodes: [cp(1), cp(2), cp(3), worker(1), worker(2, { mac: '02:00:00:00:00:11' })] })));
    expect(lines).toEqual(['openshift.0.nodes.4.mac: MAC also used by guest "m1" (got "02:00:00:00:00:11")']);
    const other = cluster({ name: 'two', apiVip: '10.0.0.26', ingressVip: '10.0.0.27' });
    other.nodes = other.nodes.map((n, i) => ({ ...n, name: `two-${n.name}`, ip: `10.0.0.${60 + i}`, mac: i === 0 ? '02:00:00:00:01:12' : `02:00:00:00:02:1${i}` }));
    expect(errorsOf(spec(cluster({}), other))).toEqual(['openshift.1.nodes.0.mac: MAC also used by guest "w2" (got "02:00:00:00:01:12")']);
  });

  it('refuses nodes below the minimum, at the field the size comes from', () => {
    const lines = errorsOf(
      spec(
        cluster({
          roles: { controlPlane: { cores: 4, memoryMiB: 8192, diskGiB: 120 }, worker: { cores: 1, memoryMiB: 8192, diskGiB: 100 } },
          nodes: [cp(1), cp(2), cp(3, { diskGiB: 100 }), worker(1), worker(2, { memoryMiB: 4096 })],
        }),
      ),
    );
    expect(lines).toEqual([
      "openshift.0.roles.controlPlane.cores: 4 vCPUs is below the agent-based installer's minimum of 8 for a control-plane node (got 4)",
      "openshift.0.roles.controlPlane.memoryMiB: below the agent-based installer's minimum of 16384 MiB for a control-plane node (got 8192)",
      "openshift.0.nodes.2.diskGiB: below the agent-based installer's minimum of 120 GB for a control-plane node (got 100)",
      "openshift.0.roles.worker.cores: 1 vCPUs is below the agent-based installer's minimum of 2 for a worker (got 1)",
      "openshift.0.nodes.4.memoryMiB: below the agent-based installer's minimum of 8192 MiB for a worker (got 4096)",
    ]);
  });

  it('counts sockets × cores as vCPUs, as the installer counts them', () => {
    const c = cluster({ roles: { controlPlane: { cores: 4, sockets: 2, memoryMiB: 16384, diskGiB: 120 }, worker: { cores: 2, memoryMiB: 8192, diskGiB: 100 } } });
    expect(compileSpec(parseSpec(spec(c))).guests.find((g) => g.name === 'm1')?.cores).toBe(8);
    const sno = cluster({ topology: 'sno', nodes: [cp(1, { sockets: 1, cores: 6 })] });
    expect(errorsOf(spec(sno))).toContain(
      "openshift.0.nodes.0.cores: 6 vCPUs is below the agent-based installer's minimum of 8 for a single-node cluster (got 6)",
    );
  });

  it('starts the VMs on boot unless a node says otherwise', () => {
    const compiled = compileSpec(parseSpec(spec(cluster({ nodes: [cp(1), cp(2), cp(3), worker(1), worker(2, { onBoot: false })] }))));
    expect(compiled.guests.map((g) => [g.name, g.start.onBoot])).toEqual([
      ['m1', true],
      ['m2', true],
      ['m3', true],
      ['w1', true],
      ['w2', false],
    ]);
  });
});
