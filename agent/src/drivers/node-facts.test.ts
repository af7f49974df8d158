import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeFacts, decodeDev, normalizeBusId } from './node-facts.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A host tree with the capture's /proc files; the device list (ls -l in the capture) as JSON. */
function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'phoenix-facts-'));
  roots.push(root);
  const capture = readFileSync(new URL('../../../test/fixtures/nvidia/nvidia-idle.txt', import.meta.url), 'utf8');
  const version = capture.split('### driver version file\n')[1]?.split('###')[0] ?? '';
  mkdirSync(join(root, 'proc/driver/nvidia/gpus/0000:00:06.0'), { recursive: true });
  writeFileSync(join(root, 'proc/driver/nvidia/version'), version);
  writeFileSync(join(root, 'proc/driver/nvidia/gpus/0000:00:06.0/information'), 'Model: \t\t NVIDIA H100 80GB HBM3\nDevice Minor: \t 0\n');
  // The capture's "dev nodes" section: crw-rw-rw- 1 root root 195,   0 … /dev/nvidia0
  const nodes = [...capture.matchAll(/^c\S+ \d+ \S+ \S+ +(\d+), +(\d+) .* (\/dev\/\S+)$/gm)].map((m) => ({
    path: m[3],
    major: Number(m[1]),
    minor: Number(m[2]),
  }));
  writeFileSync(join(root, 'dev-nvidia.json'), JSON.stringify(nodes));
  return root;
}

describe('node facts', () => {
  it('decodes Linux dev_t numbers', () => {
    expect(decodeDev((238n << 8n) | 1n)).toEqual({ major: 238, minor: 1 });
    // Large numbers use the extended encoding (major above 4095, minor above 255).
    const rdev = ((5000n & 0xfffn) << 8n) | ((5000n & ~0xfffn) << 32n) | (300n & 0xffn) | ((300n & ~0xffn) << 12n);
    expect(decodeDev(rdev)).toEqual({ major: 5000, minor: 300 });
  });

  it('normalises PCI addresses from nvidia-smi and /proc alike', () => {
    expect(normalizeBusId('00000000:00:06.0')).toBe('0000:00:06.0');
    expect(normalizeBusId('0000:00:06.0')).toBe('0000:00:06.0');
    expect(normalizeBusId('00000001:3B:00.0')).toBe('0001:3b:00.0');
  });

  it('reads the driver version, GPU minors, and the device list (captured majors: uvm 238, not a hard-coded 243)', async () => {
    const facts = await new NodeFacts({ hostRoot: tree() }).nvidia();
    expect(facts.driverVersion).toBe('580.159.04');
    expect(facts.minorsByBusId).toEqual({ '0000:00:06.0': 0 });
    expect(facts.devices).toContainEqual({ path: '/dev/nvidia-uvm', major: 238, minor: 0 });
    expect(facts.devices).toContainEqual({ path: '/dev/nvidiactl', major: 195, minor: 255 });
  });

  it.runIf(process.getuid?.() === 0)('stats real character devices for their numbers', async () => {
    const root = tree();
    mkdirSync(join(root, 'dev'));
    execFileSync('mknod', ['-m', '666', join(root, 'dev/nvidia-uvm'), 'c', '509', '0']);
    execFileSync('mknod', ['-m', '666', join(root, 'dev/nvidia0'), 'c', '195', '0']);
    const facts = await new NodeFacts({ hostRoot: root }).nvidia();
    // Real device nodes win over the JSON list.
    expect(facts.devices).toEqual([
      { path: '/dev/nvidia-uvm', major: 509, minor: 0 },
      { path: '/dev/nvidia0', major: 195, minor: 0 },
    ]);
  });

  it('reports nothing on a node without the driver', async () => {
    const root = mkdtempSync(join(tmpdir(), 'phoenix-facts-empty-'));
    roots.push(root);
    expect(await new NodeFacts({ hostRoot: root }).nvidia()).toEqual({ driverVersion: undefined, devices: [], minorsByBusId: {} });
  });
});
