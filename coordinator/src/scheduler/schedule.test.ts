import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSpecText, parseYamlText, compileSpec, parseSpec } from '../spec/index.js';
import { viewFromData } from '../view/file.js';
import { schedulerInput } from './from-spec.js';
import { gpuModelMatches } from './model-match.js';
import { explain, schedule } from './schedule.js';
import { makeNode, makeView } from './testing.js';
import { DEFAULT_POLICY, policyFromSpec, type PendingGuest, type SchedulePolicy } from './types.js';

const P = DEFAULT_POLICY;
const spread: SchedulePolicy = { ...P, strategy: 'spread' };
const ct = (name: string, o: Partial<PendingGuest> = {}): PendingGuest => ({
  name,
  kind: 'container',
  cores: 2,
  memoryMiB: 2048,
  disks: [{ sizeGiB: 10 }],
  ...o,
});

describe('gpuModelMatches', () => {
  it('matches whole words in order, case-insensitively', () => {
    expect(gpuModelMatches('H100', 'NVIDIA H100 80GB HBM3')).toBe(true);
    expect(gpuModelMatches('h100 80gb', 'NVIDIA H100 80GB HBM3')).toBe(true);
    expect(gpuModelMatches('L40', 'NVIDIA L40S')).toBe(false);
    expect(gpuModelMatches('L40S', 'NVIDIA L40S')).toBe(true);
    expect(gpuModelMatches('80GB H100', 'NVIDIA H100 80GB HBM3')).toBe(false);
  });
});

describe('schedule', () => {
  it('binpacks onto the fuller node and spreads onto the emptier one', () => {
    const view = makeView([
      makeNode('a', { guests: [{ cores: 16, memoryMiB: 65536 }] }),
      makeNode('b'),
    ]);
    expect(schedule(view, [ct('g')], P).placements[0]?.node).toBe('a');
    expect(schedule(view, [ct('g')], spread).placements[0]?.node).toBe('b');
  });

  it('explains a memory rejection with the numbers', () => {
    const view = makeView([makeNode('small', { memoryMiB: 8192, guests: [{ memoryMiB: 5120 }] }), makeNode('big')]);
    const ex = explain(view, [ct('g', { memoryMiB: 8192 })], P, 'g');
    expect(ex.decision.node).toBe('big');
    expect(ex.nodes[0]).toMatchObject({ node: 'big', verdict: 'chosen' });
    expect(ex.nodes[1]).toEqual({ node: 'small', verdict: 'rejected', filter: 'memory', message: 'memory: needs 8192 MiB, 3072 MiB free' });
  });

  it('applies overcommit ratios to cpu and memory', () => {
    const view = makeView([makeNode('n', { cores: 4, memoryMiB: 4096 })]);
    const guests = [ct('a', { cores: 8, memoryMiB: 1024 }), ct('b', { cores: 8, memoryMiB: 1024 }), ct('c', { cores: 1, memoryMiB: 1024 })];
    const r = schedule(view, guests, { ...P, overcommit: { cpu: 4, memory: 1 } });
    expect(r.placements.map((p) => p.guest).sort()).toEqual(['a', 'b']);
    expect(r.unplaced[0]?.guest).toBe('c');
    expect(r.unplaced[0]?.reason).toContain('cpu: needs 1 vCPU, 0 of 16 free (overcommit 4×)');
    const generous = schedule(view, guests, { ...P, overcommit: { cpu: 8, memory: 1 } });
    expect(generous.unplaced).toEqual([]);
  });

  it('honours pinned nodes, labels and down nodes', () => {
    const view = makeView([
      makeNode('a', { labels: { zone: 'a' } }),
      makeNode('b', { labels: { zone: 'b' } }),
      makeNode('c', { labels: { zone: 'b' }, down: true }),
    ]);
    const r = schedule(view, [ct('pin', { node: 'a', labels: { zone: 'a' } }), ct('lab', { labels: { zone: 'b' } }), ct('ghost', { node: 'zz' })], P, { detail: 'nodes' });
    expect(r.placements.find((p) => p.guest === 'pin')?.node).toBe('a');
    expect(r.placements.find((p) => p.guest === 'lab')?.node).toBe('b');
    const lab = r.reasons.get('lab');
    expect(lab?.nodes?.find((v) => v.node === 'a')).toMatchObject({ filter: 'labels', message: 'labels: needs zone=b, node has zone=a' });
    expect(lab?.nodes?.find((v) => v.node === 'c')).toMatchObject({ filter: 'node-down' });
    expect(r.unplaced).toEqual([
      { guest: 'ghost', reason: expect.stringContaining('pinned to zz, which is not in the view') as string, rejected: { pinned: 3 } },
    ]);
  });

  it('keeps anti-affinity groups apart, existing guests included', () => {
    const view = makeView([makeNode('a', { guests: [{ name: 'old', groups: ['web'] }] }), makeNode('b'), makeNode('c')]);
    const r = schedule(view, [ct('w1', { antiAffinity: ['web'] }), ct('w2', { antiAffinity: ['web'] }), ct('w3', { antiAffinity: ['web'] })], P);
    const nodes = r.placements.map((p) => p.node).sort();
    expect(nodes).toEqual(['b', 'c']);
    expect(r.unplaced[0]?.reason).toContain('anti-affinity on 3 nodes');
  });

  it('places GPU guests by model, count and free memory, and shares or takes GPUs', () => {
    const view = makeView([
      makeNode('h100', { gpus: [{ memoryFreeMiB: 10000 }, { memoryFreeMiB: 70000 }] }),
      makeNode('l40s', { gpus: [{ model: 'NVIDIA L40S', memoryTotalMiB: 46068 }] }),
      makeNode('cpu'),
    ]);
    const r = schedule(
      view,
      [
        ct('big', { gpu: { count: 1, model: 'H100', minFreeMemoryMiB: 30000, exclusive: false } }),
        ct('two', { gpu: { count: 2, exclusive: false } }),
        { ...ct('vm'), kind: 'vm', gpu: { count: 1, model: 'L40S', exclusive: true } },
        { ...ct('vm2'), kind: 'vm', gpu: { count: 1, model: 'L40S', exclusive: true } },
      ],
      P,
    );
    const at = (g: string) => r.placements.find((p) => p.guest === g);
    expect(at('big')).toMatchObject({ node: 'h100', gpus: [1] });
    expect(at('two')).toMatchObject({ node: 'h100', gpus: [0, 1] });
    expect(at('vm')).toMatchObject({ node: 'l40s', gpus: [0] });
    expect(r.unplaced.map((u) => u.guest)).toEqual(['vm2']);
    const ex = explain(view, [ct('x', { gpu: { count: 1, model: 'H100', minFreeMemoryMiB: 75000, exclusive: false } })], P, 'x');
    expect(ex.nodes.find((n) => n.node === 'h100')?.message).toBe(
      'gpu: needs 1× H100 with ≥ 75000 MiB free; 0 eligible of 2: GPU 0: 10000 MiB free; GPU 1: 70000 MiB free',
    );
    expect(ex.nodes.find((n) => n.node === 'l40s')?.message).toContain('GPU 0: model NVIDIA L40S');
    expect(ex.nodes.find((n) => n.node === 'cpu')?.message).toContain('node has no GPUs');
  });

  it('keeps guests without GPUs off GPU nodes while another node fits', () => {
    const view = makeView([makeNode('gpu', { gpus: [{}], guests: [{ cores: 30, memoryMiB: 120000 }] }), makeNode('plain')]);
    expect(schedule(view, [ct('g')], P).placements[0]?.node).toBe('plain');
  });

  it('checks storage by id or by content type, and drains shared storage once', () => {
    const shared = { id: 'nfs', shared: true, totalGiB: 100, freeGiB: 30, content: ['images', 'rootdir'] as const };
    const view = makeView([
      makeNode('a', { storages: [{ id: 'local', content: ['iso'] }, { ...shared, content: [...shared.content] }] }),
      makeNode('b', { storages: [{ ...shared, content: [...shared.content] }] }),
    ]);
    const r = schedule(view, [ct('x', { disks: [{ storage: 'nfs', sizeGiB: 20 }] }), ct('y', { disks: [{ storage: 'nfs', sizeGiB: 20 }] })], spread);
    expect(r.placements).toHaveLength(1);
    expect(r.unplaced[0]?.reason).toContain('storage: needs 20 GiB on nfs, 10 GiB free');
    const any = schedule(view, [ct('z', { disks: [{ sizeGiB: 5 }] })], P);
    expect(any.placements[0]?.storages).toEqual(['nfs']); // 'local' holds only ISOs
    const missing = explain(view, [ct('m', { disks: [{ storage: 'fast', sizeGiB: 1 }] })], P, 'm');
    expect(missing.nodes.every((n) => n.message === 'storage: fast exists on no node')).toBe(true);
  });

  it('places template parents first, prefers nodes that hold the template, and costs a copy', () => {
    const view = makeView([
      makeNode('a', { osTemplates: ['ubuntu.tar.zst'] }),
      makeNode('b', { guests: [{ cores: 8, memoryMiB: 32768 }] }),
    ]);
    const pending = [
      ct('child', { template: { kind: 'guest', guest: 'parent', snapshot: 'final' } }),
      ct('parent', { template: { kind: 'file', file: 'ubuntu.tar.zst' } }),
    ];
    const r = schedule(view, pending, P);
    expect(r.placements.map((p) => [p.guest, p.node, p.templateCopy])).toEqual([
      ['parent', 'a', false],
      ['child', 'a', false],
    ]);
    const full = makeView([makeNode('a', { memoryMiB: 4096, guests: [{ name: 'parent', snapshots: ['final'], memoryMiB: 4096 }] }), makeNode('b')]);
    const copy = schedule(full, [pending[0] as PendingGuest], P);
    expect(copy.placements[0]).toMatchObject({ node: 'b', templateCopy: true });
    const deny = schedule(full, [pending[0] as PendingGuest], { ...P, templateCopies: 'deny' });
    expect(deny.placements).toHaveLength(0);
    expect(deny.unplaced[0]?.rejected).toEqual({ template: 1, memory: 1 });
    expect(deny.unplaced[0]?.reason).toContain('b: template: parent@final is not on this node and template copies are denied');
  });

  it('rejects a clone whose template is nowhere and whose parent could not be placed', () => {
    const view = makeView([makeNode('a', { memoryMiB: 4096 })]);
    const r = schedule(view, [ct('parent', { memoryMiB: 8192 }), ct('child', { template: { kind: 'guest', guest: 'parent', snapshot: 's' } })], P);
    expect(r.unplaced.map((u) => u.guest)).toEqual(['parent', 'child']);
    expect(r.unplaced[1]?.reason).toContain('template: parent@s is on no node (its template guest parent could not be placed)');
  });

  it('gives the same result for every order of the same guests, and for both scan modes', () => {
    const view = makeView([
      makeNode('a'),
      makeNode('b', { labels: { zone: 'x' } }),
      makeNode('c', { gpus: [{}] }),
      makeNode('d'),
      makeNode('e'),
    ]);
    const guests = Array.from({ length: 40 }, (_, i) =>
      ct(`g${i}`, {
        cores: 1 + (i % 7),
        memoryMiB: 1024 * (1 + (i % 9)),
        ...(i % 5 === 0 ? { labels: { zone: 'x' } } : {}),
        ...(i % 6 === 0 ? { antiAffinity: ['grp'] } : {}),
      }),
    );
    const a = schedule(view, guests, P);
    const b = schedule(view, [...guests].reverse(), P);
    const c = schedule(view, guests, P, { scan: 'every-node' });
    expect(b.placements).toEqual(a.placements);
    expect(c.placements).toEqual(a.placements);
    expect(c.unplaced).toEqual(a.unplaced);
  });

  it('gives the same result with its scan shortcuts as scanning every node, for many guests of few shapes', () => {
    let seed = 7;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const nodes = Array.from({ length: 120 }, (_, i) =>
      makeNode(`n${String(i).padStart(3, '0')}`, {
        cores: [16, 32, 64][i % 3]!,
        memoryMiB: 1024 * [64, 128, 256][(i >> 1) % 3]!,
        labels: { zone: `z${i % 4}` },
        storages: [
          { id: 'local', totalGiB: 2000, freeGiB: i % 5 === 0 ? 1000 + Math.floor(rnd() * 900) : 2000 },
          { id: 'nfs', shared: true, totalGiB: 5000, freeGiB: 3000 },
        ],
        guests: i % 7 === 0 ? [{ cores: 4, memoryMiB: 8192, groups: ['g1'] }] : [],
        osTemplates: i % 3 === 0 ? ['os.tar.zst'] : [],
        ...(i % 10 === 0 ? { gpus: [{}] } : {}),
      }),
    );
    const view = makeView(nodes);
    const shapes: Partial<PendingGuest>[] = [
      { cores: 2, memoryMiB: 4096 },
      { cores: 4, memoryMiB: 8192, template: { kind: 'file', file: 'os.tar.zst' } },
      { cores: 2, memoryMiB: 2048, disks: [{ sizeGiB: 10 }, { storage: 'nfs', sizeGiB: 20 }] },
      { cores: 8, memoryMiB: 16384, labels: { zone: 'z1' } },
    ];
    const guests = Array.from({ length: 1500 }, (_, i) =>
      ct(`g${String(i).padStart(4, '0')}`, {
        ...shapes[i % shapes.length],
        ...(i % 9 === 0 ? { antiAffinity: [`grp${i % 4}`] } : {}),
        ...(i % 13 === 0 ? { antiAffinity: ['g1'] } : {}),
      }),
    );
    for (const policy of [P, spread]) {
      const improve = { maxEvaluations: 300_000 };
      const fast = schedule(view, guests, policy, { improve });
      const slow = schedule(view, guests, policy, { scan: 'every-node', improve });
      expect(fast.placements).toEqual(slow.placements);
      expect(fast.unplaced).toEqual(slow.unplaced);
      expect(fast.placements.length).toBeGreaterThan(1000);
    }
  });

  it('rejects duplicate guest names naming the field', () => {
    expect(() => schedule(makeView([makeNode('a')]), [ct('x'), ct('x')], P)).toThrowError('pending.1.name: duplicate guest name (got "x")');
  });
});

describe('schedule from a spec and the three-node view', () => {
  const view = viewFromData(parseYamlText(readFileSync(new URL('../../../test/fixtures/views/three-nodes.yaml', import.meta.url), 'utf8'), 'v'), 0);
  const { compiled } = loadSpecText(readFileSync(new URL('../../examples/lab.yaml', import.meta.url), 'utf8'), 'lab.yaml');

  it('keeps existing guests, places the rest GPU-aware and explains it', () => {
    const input = schedulerInput(compiled, view);
    expect(input.existing.map((e) => `${e.guest}@${e.node}`).sort()).toEqual(['base@gpu-a', 'ubuntu-cloud@cpu-c', 'web-1@cpu-c']);
    const r = schedule(input.view, input.pending, policyFromSpec(compiled.scheduling));
    const at = new Map(r.placements.map((p) => [p.guest, p]));
    expect(r.unplaced).toEqual([]);
    expect(at.get('granite-embedding')?.node).toBe('gpu-a'); // H100 asked for
    expect(at.get('ollama')?.node).toBe('gpu-b'); // inference anti-affinity with granite-embedding
    expect(at.get('db')?.node).toBe('cpu-c'); // disk=nvme label
    expect(at.get('web-2')?.node).not.toBe('cpu-c'); // web-1 is there already
    const ex = explain(input.view, input.pending, policyFromSpec(compiled.scheduling), 'granite-embedding');
    // with the rest of the plan in place: ollama holds gpu-b for the inference group
    expect(ex.nodes.find((n) => n.node === 'gpu-b')?.message).toBe('anti-affinity: group inference already has 1 guest on this node');
    expect(ex.nodes.find((n) => n.node === 'cpu-c')?.message).toBe('gpu: needs 1× H100 with ≥ 20000 MiB free; node has no GPUs');
    const alone = explain(input.view, input.pending.filter((g) => g.name !== 'ollama'), policyFromSpec(compiled.scheduling), 'granite-embedding');
    expect(alone.nodes.find((n) => n.node === 'gpu-b')?.message).toBe(
      'gpu: needs 1× H100 with ≥ 20000 MiB free; 0 eligible of 1: GPU 0: model NVIDIA L40S',
    );
  });

  it('puts the control-plane VMs of one OpenShift cluster on distinct nodes', () => {
    const ref = { store: 'vault' as const, path: 'secrets/data/openshift/pull' };
    const spec = compileSpec(
      parseSpec({
        version: 1,
        cluster: { name: 'lab' },
        nodes: [{ name: 'gpu-a' }, { name: 'gpu-b' }, { name: 'cpu-c' }],
        openshift: [
          {
            name: 'ocp',
            topology: 'compact',
            baseDomain: 'lab.example.org',
            version: '4.19.1',
            apiVip: '10.0.0.20',
            ingressVip: '10.0.0.21',
            network: { machineCidr: '10.0.0.0/24', gateway: '10.0.0.1', nameservers: ['10.0.0.1'] },
            roles: { controlPlane: { cores: 8, memoryMiB: 16384, diskGiB: 120, storage: 'shared-nfs' } },
            nodes: ['m1', 'm2', 'm3'].map((name) => ({ name, role: 'control-plane' as const })),
            pullSecret: ref,
            sshKey: ref,
          },
        ],
      }),
    );
    const input = schedulerInput(spec, view);
    const r = schedule(input.view, input.pending, { ...policyFromSpec(spec.scheduling), strategy: 'binpack' });
    expect(new Set(r.placements.map((p) => p.node)).size).toBe(3);
  });
});
