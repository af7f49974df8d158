import { describe, expect, it } from 'vitest';
import type { Allocation, AllocationRequest } from '../alloc/index.js';
import { makeNode, makeView } from '../scheduler/testing.js';
import { compileSpec } from '../spec/compile.js';
import { parseSpec } from '../spec/load.js';
import { buildPlan, type GuestAllocator, type OpenShiftInstallRecord } from './index.js';

const allocator: GuestAllocator = {
  allocate: (r: AllocationRequest): Promise<Allocation> =>
    Promise.resolve({ guestId: r.guestId, vmid: r.vmid ?? 500 + r.guestId.length, nics: [{ id: 'net0', mac: r.nics?.[0]?.mac ?? '52:54:00:aa:bb:01' }] }),
};

function spec(withWeb = true) {
  const ref = { store: 'kv' as const, path: 'openshift/pull-secret' };
  return compileSpec(
    parseSpec({
      version: 1,
      cluster: { name: 'lab' },
      nodes: [{ name: 'pve1' }, { name: 'pve2' }, { name: 'pve3' }],
      templates: [{ kind: 'os-template', name: 'ubuntu', file: 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst' }],
      containers: withWeb ? [{ name: 'web', vmid: 300, template: 'ubuntu' }] : [],
      openshift: [
        {
          name: 'ocp',
          topology: 'compact',
          baseDomain: 'lab.example.org',
          version: '4.19.1',
          apiVip: '10.0.0.20',
          ingressVip: '10.0.0.21',
          isoStorage: 'isos',
          network: { machineCidr: '10.0.0.0/24', gateway: '10.0.0.1', nameservers: ['10.0.0.1'] },
          roles: { controlPlane: { cores: 8, memoryMiB: 16384, diskGiB: 120 } },
          nodes: ['m1', 'm2', 'm3'].map((name, i) => ({ name, role: 'control-plane' as const, vmid: 401 + i, ip: `10.0.0.${31 + i}`, mac: `52:54:00:00:00:0${i + 1}` })),
          pullSecret: ref,
          sshKey: { store: 'kv' as const, path: 'openshift/ssh-key' },
        },
      ],
    }),
  );
}

const view = (guests: { vmid: number; name: string }[] = []) =>
  makeView(['pve1', 'pve2', 'pve3'].map((n, i) => makeNode(n, { osTemplates: ['ubuntu-24.04-standard_24.04-2_amd64.tar.zst'], guests: guests.filter((_, j) => j % 3 === i).map((g) => ({ ...g, status: 'running' as const })) })));

describe('planning OpenShift installs', () => {
  it('gates each new VM on its cluster ISO, puts the ISO on the nodes of the VMs, leaves other guests ungated', async () => {
    const plan = await buildPlan(spec(), view(), { limits: { perNode: 2 }, allocator });
    const [c] = plan.openshift;
    expect(c?.action).toBe('install');
    expect(c?.isoVolume).toBe('isos:iso/phoenix-ocp-agent.x86_64.iso');
    expect(c?.nodes).toEqual(['pve1', 'pve2', 'pve3']);
    expect(c?.hosts.map((h) => [h.name, h.ip, h.mac])).toEqual([
      ['m1', '10.0.0.31', '52:54:00:00:00:01'],
      ['m2', '10.0.0.32', '52:54:00:00:00:02'],
      ['m3', '10.0.0.33', '52:54:00:00:00:03'],
    ]);
    for (const id of ['m1', 'm2', 'm3']) expect(plan.guests.find((g) => g.id === id)?.gate).toBe('openshift:ocp');
    expect(plan.guests.find((g) => g.id === 'web')?.gate).toBeUndefined();
    expect(c?.steps.map((s) => s.name)).toEqual(['image', 'upload', 'bootstrap', 'install']);
  });

  it('leaves an installed cluster whose VMs all exist alone; one VM missing means install again', async () => {
    const records = new Map<string, OpenShiftInstallRecord>([['ocp', { cluster: 'ocp', state: 'installed', nodes: ['pve1'], isoVolume: 'isos:iso/x' }]]);
    const all = view([{ vmid: 401, name: 'm1' }, { vmid: 402, name: 'm2' }, { vmid: 403, name: 'm3' }]);
    const done = await buildPlan(spec(false), all, { limits: { perNode: 2 }, allocator, openshiftRecords: records });
    expect(done.openshift[0]?.action).toBe('none');
    expect(done.guests.every((g) => g.gate === undefined)).toBe(true);
    const missing = await buildPlan(spec(false), view([{ vmid: 401, name: 'm1' }, { vmid: 402, name: 'm2' }]), { limits: { perNode: 2 }, allocator, openshiftRecords: records });
    expect(missing.openshift[0]?.action).toBe('install');
    expect(missing.guests.filter((g) => g.gate !== undefined).map((g) => g.id)).toEqual(['m3']);
  });

  it('places a cluster whole or not at all: with two nodes, none of three control planes is planned or allocated', async () => {
    const allocated: string[] = [];
    const counting: GuestAllocator = { allocate: (r) => (allocated.push(r.guestId), allocator.allocate(r)) };
    const two = makeView(['pve1', 'pve2'].map((n) => makeNode(n, { osTemplates: ['ubuntu-24.04-standard_24.04-2_amd64.tar.zst'] })));
    const plan = await buildPlan(spec(), two, { limits: { perNode: 2 }, allocator: counting });
    expect(plan.openshift).toEqual([]);
    expect(plan.guests.map((g) => g.id)).toEqual(['web']);
    expect(allocated).toEqual(['web']);
    const reasons = new Map(plan.unplaced.map((u) => [u.guest, u.reason]));
    expect([...reasons.keys()].sort()).toEqual(['m1', 'm2', 'm3']);
    const pruned = [...reasons.values()].filter((r) => r.includes('placed whole or not at all'));
    expect(pruned.length).toBe(2);
  });
});
