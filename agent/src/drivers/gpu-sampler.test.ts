import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GpuSampler } from './gpu-sampler.js';
import type { GpuSample } from './parse-nvidia.js';
import { CommandExecutor } from './run.js';

let dir: string;
const fixtureRow = (): string => {
  const text = readFileSync(new URL('../../../test/fixtures/nvidia/nvidia-load.txt', import.meta.url), 'utf8');
  return text.split('\n')[1] ?? '';
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'phoenix-sampler-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeSmi(body: string): CommandExecutor {
  const file = join(dir, `nvidia-smi-${Math.random().toString(16).slice(2)}`);
  writeFileSync(file, `#!/bin/bash\necho "$$ $*" >> ${dir}/invocations\n${body}\n`);
  chmodSync(file, 0o755);
  return new CommandExecutor({ toolPaths: { nvidiaSmi: file } });
}

const until = (cond: () => boolean) => vi.waitFor(() => expect(cond()).toBe(true), { timeout: 15_000, interval: 20 });

describe('GpuSampler', () => {
  it('runs ONE long-lived nvidia-smi -lms process and delivers per-GPU samples and rounds', async () => {
    const row = fixtureRow();
    const row1 = row.replace(/^0, /, '1, ');
    const ex = fakeSmi(`while true; do echo "${row}"; echo "${row1}"; sleep 0.05; done`);
    const batches: GpuSample[][] = [];
    const sampler = new GpuSampler({ executor: ex, intervalMs: 50, onBatch: (s) => batches.push(s) });
    sampler.start();
    await until(() => batches.length >= 3);
    await sampler.stop();
    expect(batches[1]?.map((s) => s.index)).toEqual([0, 1]);
    expect(batches[1]?.[0]).toMatchObject({ utilizationGpuPercent: 100, memoryUsedMib: 20213, fanSpeedPercent: undefined });
    expect(sampler.latest().samples.map((s) => s.index)).toEqual([0, 1]);
    const invocations = readFileSync(join(dir, 'invocations'), 'utf8').trim().split('\n');
    expect(invocations).toHaveLength(1);
    expect(invocations[0]).toContain('--format=csv,noheader,nounits -lms 50');
    expect(sampler.running).toBe(false);
  });

  it('restarts the process with backoff when it dies, and reports it', async () => {
    const row = fixtureRow();
    const ex = fakeSmi(`echo "${row}"; exit 3`);
    const errors: string[] = [];
    let samples = 0;
    const options = { executor: ex, intervalMs: 100, restartInitialMs: 20, restartMaxMs: 40 };
    const sampler = new GpuSampler({ ...options, onSample: () => samples++, onError: (m) => errors.push(m) });
    sampler.start();
    await until(() => sampler.restarts >= 3);
    await sampler.stop();
    expect(samples).toBeGreaterThanOrEqual(3);
    expect(errors.some((e) => e.includes('exited (code 3)'))).toBe(true);
    const restartsAtStop = sampler.restarts;
    // A second sampler with the same backoff restarting twice proves a stopped one had time to restart.
    const witness = new GpuSampler(options);
    witness.start();
    await until(() => witness.restarts >= 2);
    await witness.stop();
    expect(sampler.restarts).toBe(restartsAtStop);
  });

  it('reports unexpected output once per run and keeps going', async () => {
    const ex = fakeSmi('echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver."; sleep 5');
    const errors: string[] = [];
    const sampler = new GpuSampler({ executor: ex, intervalMs: 100, onError: (m) => errors.push(m) });
    sampler.start();
    await until(() => errors.length > 0);
    await sampler.stop();
    expect(errors[0]).toContain('unexpected line');
  });
});
