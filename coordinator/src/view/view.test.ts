import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { SpecError } from '../spec/errors.js';
import { parseYamlText } from '../spec/load.js';
import { viewFromData } from './file.js';
import { liveness, nodeStatus } from './liveness.js';
import { summarizeNode } from './summary.js';
import { advanceClock, applyTelemetry, emptyView, type TelemetryMessage } from './telemetry.js';

const THREE = new URL('../../../test/fixtures/views/three-nodes.yaml', import.meta.url);

describe('liveness', () => {
  it('is up within missed × interval of the last heartbeat, down after, unknown without one', () => {
    expect(liveness(undefined, 1_000, 10_000, 3)).toBe('unknown');
    expect(liveness(0, 30_000, 10_000, 3)).toBe('up');
    expect(liveness(0, 30_001, 10_000, 3)).toBe('down');
    expect(liveness(50_000, 40_000, 10_000, 3)).toBe('up'); // a clock ahead of ours still counts as fresh
  });

  test.prop([fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 1, max: 10 })])(
    'depends only on the silence, and silence only ever turns up into down',
    (last, silence, interval, missed) => {
      const a = liveness(last, last + silence, interval, missed);
      expect(a).toBe(liveness(last + 7, last + 7 + silence, interval, missed));
      if (a === 'down') expect(liveness(last, last + silence + 1, interval, missed)).toBe('down');
      expect(a).toBe(silence > missed * interval ? 'down' : 'up');
    },
  );
});

describe('applyTelemetry', () => {
  const node = (at: number, mem = 1024): TelemetryMessage => ({
    kind: 'node',
    node: 'pve2',
    at,
    cpu: { cores: 16 },
    memory: { totalMiB: mem, usedMiB: 10 },
    storages: [{ id: 'local', type: 'dir', totalGiB: 100, freeGiB: 50, content: ['rootdir'] }],
  });

  it('creates nodes in name order and folds each kind into its own part of the node', () => {
    let view = emptyView({ cluster: 'lab', heartbeatIntervalMs: 1000 });
    view = applyTelemetry(view, node(100));
    view = applyTelemetry(view, { kind: 'heartbeat', node: 'pve1', at: 150 });
    view = applyTelemetry(view, {
      kind: 'gpu',
      node: 'pve2',
      at: 200,
      gpus: [{ index: 1, model: 'NVIDIA L40S', memoryTotalMiB: 46068, memoryFreeMiB: 40000, utilizationPct: 12 }, { index: 0, model: 'NVIDIA L40S', memoryTotalMiB: 46068, memoryFreeMiB: 46000, utilizationPct: 0 }],
    });
    view = applyTelemetry(view, { kind: 'guests', node: 'pve2', at: 210, guests: [{ vmid: 101, name: 'a', type: 'lxc', status: 'running', cores: 2, memoryMiB: 512, gpus: [0] }] });
    expect(view.nodes.map((n) => n.name)).toEqual(['pve1', 'pve2']);
    const pve2 = view.nodes[1];
    expect(pve2?.memory.totalMiB).toBe(1024);
    expect(pve2?.gpus.map((g) => g.index)).toEqual([0, 1]);
    expect(pve2?.guests[0]?.gpus).toEqual([0]);
    expect(pve2?.lastHeartbeat).toBe(210);
    expect(view.observedAt).toBe(210);
  });

  it('ignores a message older than what the view holds for that part, and never mutates its input', () => {
    const v1 = applyTelemetry(emptyView(), node(500, 2048));
    const frozen = JSON.stringify(v1);
    const v2 = applyTelemetry(v1, node(400, 4096));
    expect(v2.nodes[0]?.memory.totalMiB).toBe(2048);
    expect(JSON.stringify(v1)).toBe(frozen);
    const v3 = applyTelemetry(v1, node(600, 4096));
    expect(v3.nodes[0]?.memory.totalMiB).toBe(4096);
    expect(v1.nodes[0]?.memory.totalMiB).toBe(2048);
  });

  it('turns a silent node down once the clock moves past three intervals', () => {
    let view = emptyView({ heartbeatIntervalMs: 10_000 });
    view = applyTelemetry(view, { kind: 'heartbeat', node: 'pve1', at: 1_000 });
    const pve1 = () => view.nodes[0] as NonNullable<(typeof view.nodes)[number]>;
    expect(nodeStatus(view, pve1())).toBe('up');
    view = advanceClock(view, 31_000);
    expect(nodeStatus(view, pve1())).toBe('up');
    view = advanceClock(view, 31_001);
    expect(nodeStatus(view, pve1())).toBe('down');
    view = advanceClock(view, 5); // the clock never goes back
    expect(view.observedAt).toBe(31_001);
    view = applyTelemetry(view, { kind: 'heartbeat', node: 'pve1', at: 31_500 });
    expect(nodeStatus(view, pve1())).toBe('up');
  });
});

describe('view files', () => {
  it('reads three-nodes.yaml: GPUs, storages, guests, templates, all up', () => {
    const view = viewFromData(parseYamlText(readFileSync(THREE, 'utf8'), 'three-nodes.yaml'), 0);
    expect(view.nodes.map((n) => n.name)).toEqual(['cpu-c', 'gpu-a', 'gpu-b']);
    expect(view.observedAt).toBe(Date.parse('2026-11-25T12:00:00Z'));
    const s = view.nodes.map((n) => summarizeNode(view, n));
    expect(s.map((n) => n.status)).toEqual(['up', 'up', 'up']);
    const gpuA = s.find((n) => n.name === 'gpu-a');
    expect(gpuA?.gpus.map((g) => [g.model, g.guests])).toEqual([['NVIDIA H100 80GB HBM3', 1], ['NVIDIA H100 80GB HBM3', 0]]);
    expect(gpuA?.templates).toContain('base@final-form');
    expect(gpuA?.cpu.allocatedCores).toBe(18);
    expect(gpuA?.heartbeatAgeSeconds).toBe(5);
    expect(s.find((n) => n.name === 'cpu-c')?.templates).toContain('ubuntu-cloud');
  });

  it('judges liveness against observedAt, or the reading time when the file has none', () => {
    const data = { nodes: [{ name: 'n1', lastHeartbeat: 1_000, cpu: { cores: 1 }, memory: { totalMiB: 1 } }, { name: 'n2', cpu: { cores: 1 }, memory: { totalMiB: 1 } }] };
    const late = viewFromData(data, 100_000);
    expect(late.nodes.map((n) => nodeStatus(late, n))).toEqual(['down', 'up']); // n2 states nothing: the file vouches for it
    const early = viewFromData({ ...data, observedAt: 10_000 }, 100_000);
    expect(nodeStatus(early, early.nodes[0] as (typeof early.nodes)[number])).toBe('up');
  });

  it('rejects bad view data naming the field and the value', () => {
    const bad = {
      nodes: [
        { name: 'n1', cpu: { cores: -1 }, memory: { totalMiB: 1 } },
        { name: 'n1', cpu: { cores: 1 }, memory: { totalMiB: 1 }, gpus: [{ index: 0, model: 'X', memoryTotalMiB: 10, memoryFreeMiB: 20 }] },
      ],
    };
    expect(() => viewFromData(bad, 0)).toThrowError(/nodes\.0\.cpu\.cores: .*\(got -1\)/);
    const dup = { nodes: [bad.nodes[1], { ...bad.nodes[1], gpus: [] }] };
    try {
      viewFromData(dup, 0);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SpecError);
      expect((err as SpecError).lines).toEqual([
        'nodes.0.gpus.0.memoryFreeMiB: more than memoryTotalMiB (got 20)',
        'nodes.1.name: duplicate node name (got "n1")',
      ]);
    }
  });
});
