import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '@phoenix/shared';
import { compileSpec } from './compile.js';
import { parseSpec } from './load.js';

const spec = (nodes: { name: string; role: 'control-plane' | 'worker'; ip?: string }[]) =>
  compileSpec(
    parseSpec({
      version: 1,
      cluster: { name: 'lab' },
      nodes: [{ name: 'pve1' }, { name: 'pve2' }, { name: 'pve3' }],
      openshift: [
        {
          name: 'ocp',
          topology: 'compact',
          baseDomain: 'lab.example.org',
          version: '4.19.1',
          apiVip: '10.0.0.2',
          ingressVip: '10.0.0.3',
          network: { machineCidr: '10.0.0.0/28', gateway: '10.0.0.1', nameservers: ['10.0.0.4'] },
          roles: { controlPlane: { cores: 8, memoryMiB: 16384, diskGiB: 120 } },
          nodes,
          pullSecret: { store: 'kv', path: 'openshift/pull-secret' },
          sshKey: { store: 'kv', path: 'openshift/ssh-key' },
        },
      ],
    }),
  );

describe('OpenShift node addresses left out', () => {
  it('take the lowest free addresses of the machine network, past the gateway, VIPs, nameservers and given addresses', () => {
    const c = spec([
      { name: 'm1', role: 'control-plane' },
      { name: 'm2', role: 'control-plane', ip: '10.0.0.5' },
      { name: 'm3', role: 'control-plane' },
    ]);
    expect(c.openshift[0]?.spec.nodes.map((n) => n.ip)).toEqual(['10.0.0.6', '10.0.0.5', '10.0.0.7']);
    expect(c.openshift[0]?.rendezvousIp).toBe('10.0.0.6');
    expect(c.guests.find((g) => g.name === 'm3')?.network.ip).toBe('10.0.0.7/28');
  });

  it('are refused, naming the node, when the machine network has none left', () => {
    const nodes = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10', 'm11'].map((name) => ({ name, role: 'control-plane' as const }));
    const err = (() => {
      try {
        spec(nodes);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(exitCodeOf(err)).toBe(2);
    expect((err as Error).message).toContain('openshift.0.nodes.10.ip');
    expect((err as Error).message).toContain('no free address left in 10.0.0.0/28');
  });

  it('are the same on every compile of the same spec', () => {
    const nodes = [
      { name: 'm1', role: 'control-plane' as const },
      { name: 'm2', role: 'control-plane' as const },
      { name: 'm3', role: 'control-plane' as const },
    ];
    expect(spec(nodes).openshift[0]?.spec.nodes.map((n) => n.ip)).toEqual(spec(nodes).openshift[0]?.spec.nodes.map((n) => n.ip));
  });
});
