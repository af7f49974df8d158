import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Allocation, AllocationRequest } from '../alloc/index.js';
import { makeNode, makeView } from '../scheduler/testing.js';
import { compileSpec } from '../spec/compile.js';
import { loadSpecText, parseSpec } from '../spec/load.js';
import type { SpecInput } from '../spec/spec.js';
import { buildPlan, type BuildPlanOptions } from './plan-build.js';

const EXAMPLE = readFileSync(new URL('../../examples/lab.yaml', import.meta.url), 'utf8');

/** Hands out VMIDs from 200 and addresses from 10.0.0.50 in call order, and records the calls. */
function fakeAllocator(): { allocator: NonNullable<BuildPlanOptions['allocator']>; calls: AllocationRequest[] } {
  const calls: AllocationRequest[] = [];
  let vmid = 200;
  let host = 50;
  const allocator = {
    allocate: (request: AllocationRequest): Promise<Allocation> => {
      calls.push(request);
      const nic = request.nics?.[0];
      const address = nic && 'pool' in nic ? `10.0.0.${host++}` : undefined;
      return Promise.resolve({
        guestId: request.guestId,
        vmid: request.vmid ?? vmid++,
        nics: [{ id: 'net0', mac: nic?.mac ?? `BC:24:11:00:00:${(vmid % 256).toString(16).padStart(2, '0')}`, ...(address ? { address, prefix: 24, gateway: '10.0.0.1' } : {}) }],
      });
    },
  } as unknown as NonNullable<BuildPlanOptions['allocator']>;
  return { allocator, calls };
}

function chainSpec(): SpecInput {
  return {
    version: 1,
    cluster: { name: 'lab' },
    nodes: [{ name: 'pve1' }, { name: 'pve2' }],
    networks: [{ name: 'lan', bridge: 'vmbr0', cidr: '10.0.0.0/24', gateway: '10.0.0.1', pools: [{ name: 'guests', range: '10.0.0.50-10.0.0.90' }] }],
    templates: [
      { kind: 'os-template', name: 'ubuntu', file: 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst' },
      { kind: 'guest', name: 'base', guest: 'base' },
      { kind: 'guest', name: 'cuda', guest: 'cuda' },
    ],
    containers: [
      { name: 'base', vmid: 900, template: 'ubuntu', snapshotAsTemplate: 'final-form', features: ['base_setup'], placement: { node: 'pve1' } },
      { name: 'cuda', template: 'base', snapshotAsTemplate: 'cuda-ready', placement: { node: 'pve1' }, diskGiB: 40 },
      { name: 'app', template: 'cuda', placement: { node: 'pve2' }, network: { network: 'lan', pool: 'guests' }, applicationScript: 'vllm', diskGiB: 20 },
      { name: 'web', template: 'base', placement: { node: 'pve1' }, dependencies: ['app'] },
      { name: 'orphan', template: 'base', dependencies: ['nowhere'] },
      { name: 'nowhere', template: 'ubuntu', placement: { labels: { gpu: 'b200' } } },
    ],
  };
}

const twoNodes = () => makeView([makeNode('pve1', { osTemplates: ['ubuntu-24.04-standard_24.04-2_amd64.tar.zst'] }), makeNode('pve2', { osTemplates: ['ubuntu-24.04-standard_24.04-2_amd64.tar.zst'] })]);

describe('buildPlan', () => {
  it('rebuilds a template chain on the node of a clone that needs it and clones each guest from the VMID of its source there', async () => {
    const { allocator, calls } = fakeAllocator();
    const plan = await buildPlan(compileSpec(parseSpec(chainSpec())), twoNodes(), { limits: { perNode: 2 }, allocator });
    const byId = new Map(plan.guests.map((g) => [g.id, g]));
    expect([...byId.keys()].sort()).toEqual(['app', 'base', 'base@pve2', 'cuda', 'cuda@pve2', 'web']);
    expect(byId.get('cuda@pve2')).toMatchObject({ node: 'pve2', dependsOn: ['base@pve2'], cloneSource: 'base@pve2' });
    expect(byId.get('app')).toMatchObject({ node: 'pve2', dependsOn: ['cuda@pve2'], cloneSource: 'cuda@pve2' });
    expect(byId.get('web')?.dependsOn).toEqual(['base', 'app']);
    for (const g of plan.guests) {
      const clone = g.spec?.source?.kind;
      if (!g.cloneSource) {
        expect(clone?.$case).not.toBe('clone');
        continue;
      }
      expect(clone?.$case).toBe('clone');
      if (clone?.$case === 'clone') expect(clone.value.sourceVmid).toBe(byId.get(g.cloneSource)?.vmid);
    }
    const app = byId.get('app')?.spec?.source?.kind;
    expect(app?.$case === 'clone' && app.value.snapshot).toBe('cuda-ready');
    expect(byId.get('app')?.spec?.rootDisk?.sizeGib).toBe(40); // never smaller than the template's disk
    expect(byId.get('app')?.spec?.networks[0]?.ip).toBe('10.0.0.50/24');
    expect(byId.get('base@pve2')?.spec?.networks[0]?.ip).toBe('dhcp');
    expect(plan.unplaced.map((u) => u.guest).sort()).toEqual(['nowhere', 'orphan']);
    expect(plan.unplaced.find((u) => u.guest === 'orphan')?.reason).toBe('depends on nowhere, which cannot be placed');
    expect(calls.map((c) => c.guestId)).toEqual(['base', 'cuda', 'app', 'web', 'base@pve2', 'cuda@pve2']);
    expect(plan.order.indexOf('cuda@pve2')).toBeLessThan(plan.order.indexOf('app'));
    expect(byId.get('app')?.steps.map((s) => s.name)).toEqual(['ensure_exists', 'configure', 'start', 'application']);
    expect(byId.get('base')?.steps.map((s) => s.name)).toEqual(['ensure_exists', 'configure', 'start', 'feature:base_setup', 'template']);
  });

  it('takes a replica found on its node as existing, and previews VMIDs without an allocator', async () => {
    const view = twoNodes();
    const nodes = view.nodes.map((n) => (n.name === 'pve2' ? makeNode('pve2', { guests: [{ vmid: 321, name: 'base', status: 'stopped' }] }) : n));
    const plan = await buildPlan(compileSpec(parseSpec(chainSpec())), makeView(nodes), { limits: { perNode: 2 } });
    const byId = new Map(plan.guests.map((g) => [g.id, g]));
    expect(byId.get('base@pve2')).toMatchObject({ node: 'pve2', action: 'none' });
    expect(byId.get('base@pve2')?.steps.map((s) => s.name)).toEqual(['converge']);
    expect(byId.get('base@pve2')?.cloneSource).toBeUndefined();
    const cuda2 = byId.get('cuda@pve2');
    expect(cuda2?.vmid).toBeLessThan(0);
    expect(cuda2?.spec).toBeUndefined();
    expect(byId.get('base')?.vmid).toBe(900);
    expect(byId.get('web')?.vmid).toBeLessThan(0);
  });

  it('plans the example the same way every time', async () => {
    const { compiled } = loadSpecText(EXAMPLE, 'lab.yaml');
    const view = makeView(['pve1', 'pve2', 'pve3'].map((n) => makeNode(n, { gpus: [{}, {}] })));
    const a = await buildPlan(compiled, view, { limits: { perNode: 2 }, allocator: fakeAllocator().allocator });
    const b = await buildPlan(compiled, view, { limits: { perNode: 2 }, allocator: fakeAllocator().allocator });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.guests.length).toBeGreaterThan(0);
  });
});
