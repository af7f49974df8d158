import { describe, expect, it } from 'vitest';
import { commonv1 } from '@phoenix/shared';
import { numberGpus } from './gpus.js';

const gpu = (index: number, bus: string, free: number) =>
  commonv1.Gpu.fromPartial({ index, pciBusId: `00000000:${bus}`, name: 'NVIDIA H100 80GB HBM3', memoryTotalMib: 81559, memoryFreeMib: free, memoryUsedMib: 81559 - free });

describe('numberGpus', () => {
  const boot = [gpu(0, '06:00.0', 81000), gpu(1, '07:00.0', 81000), gpu(2, '08:00.0', 81000)];
  const seen = new Map(boot.map((g) => [`0000:${g.pciBusId.slice(9)}`, g]));

  it('is nvidia-smi as it is while no VM holds a GPU', () => {
    expect(numberGpus(boot, new Set(), seen)).toEqual(boot);
  });

  it('keeps the boot-time index of every GPU when a VM takes one and nvidia-smi renumbers the rest', () => {
    // GPU 1 went to vfio-pci: nvidia-smi now calls 08:00.0 GPU 1.
    const listed = [gpu(0, '06:00.0', 70000), gpu(1, '08:00.0', 60000)];
    const out = numberGpus(listed, new Set(['0000:07:00.0']), seen);
    expect(out.map((g) => [g.index, g.pciBusId, g.memoryFreeMib])).toEqual([
      [0, '00000000:06:00.0', 70000],
      [1, '00000000:07:00.0', 0],
      [2, '00000000:08:00.0', 60000],
    ]);
    expect(out[1]).toMatchObject({ name: 'NVIDIA H100 80GB HBM3', memoryUsedMib: 81559, utilizationGpuPercent: 0 });
  });

  it('lists a passed-through GPU it never saw under its address', () => {
    const out = numberGpus([gpu(0, '06:00.0', 81000)], new Set(['0000:05:00.0']), new Map());
    expect(out.map((g) => [g.index, g.pciBusId, g.name])).toEqual([
      [0, '0000:05:00.0', 'passed through to a VM'],
      [1, '00000000:06:00.0', 'NVIDIA H100 80GB HBM3'],
    ]);
  });
});
