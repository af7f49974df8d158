/**
 * The agent's drivers against an emulated node: output parsers on what the emulated tools print,
 * error mapping on their real error texts and exit codes, faults (node down, hanging tool),
 * node facts from the emulated host tree and the long-lived GPU sampler.
 * Needs `npx tsc -b` first (the emulator runs from test/dist).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  InvalidArgumentError,
  LockedError,
  NodeDownError,
  NotFoundError,
  TimeoutError,
} from '@phoenix/shared';
import { GpuSampler, createNodeDrivers, type CreatedNodeDrivers, type GpuSample } from '../agent/src/drivers/index.js';
import { addFault, clearFaults, readCalls } from './emulator/src/index.js';
import { startNodes, type EmulatedNodes } from './harness/index.js';

const UBUNTU = 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst';
let emu: EmulatedNodes;
let stateDir: string;
let d: CreatedNodeDrivers;

beforeAll(async () => {
  emu = await startNodes({ nodes: [{ name: 'pve7', gpus: 2, templates: [UBUNTU] }], timeScale: 0.001 });
  const n = emu.nodes[0]!;
  stateDir = n.stateDir;
  d = createNodeDrivers({
    node: n.name,
    executor: { binDir: n.binDir, path: n.env['PATH'] ?? '', passEnv: ['PVE_EMU_*'], env: n.env, timeoutMs: 60_000 },
    lxcConfDir: `${n.stateDir}/lxc`,
    hostRoot: `${n.stateDir}/host`,
  });
  await d.pct.create(100, `local:vztmpl/${UBUNTU}`, { hostname: 'probe', rootfs: 'local-zfs:4', unprivileged: true });
});

afterAll(async () => {
  await emu?.teardown();
});

describe('drivers on an emulated node', () => {
  it('parses pct list/config/status/listsnapshot', async () => {
    expect(await d.pct.list()).toEqual([{ vmid: 100, status: 'stopped', lock: '', name: 'probe' }]);
    const cfg = await d.pct.config(100);
    expect(cfg.values).toMatchObject({ hostname: 'probe', unprivileged: '1', rootfs: 'local-zfs:subvol-100-disk-0,size=4G' });
    expect(await d.pct.status(100)).toBe('stopped');
    await d.pct.snapshot(100, 'first', 'one line');
    await d.pct.snapshot(100, 'second', undefined);
    expect((await d.pct.listSnapshots(100)).map((s) => [s.name, s.parent])).toEqual([
      ['first', undefined],
      ['second', 'first'],
    ]);
  });

  it('parses storage, zfs, zpool and template listings', async () => {
    const storages = await d.pvesm.status();
    expect(storages.map((s) => s.id)).toEqual(['local', 'local-zfs']);
    expect(storages.every((s) => s.totalBytes > 0 && s.status === 'active')).toBe(true);
    const pools = await d.zfs.poolList();
    expect(pools[0]).toMatchObject({ name: 'rpool', health: 'ONLINE' });
    const datasets = await d.zfs.list('rpool/data', { recursive: true });
    expect(datasets.map((x) => x.name)).toContain('rpool/data/subvol-100-disk-0');
    expect(datasets.find((x) => x.name === 'rpool/data/subvol-100-disk-0')?.mountpoint).toBe('/rpool/data/subvol-100-disk-0');
    expect(await d.pveam.list('local')).toEqual([expect.objectContaining({ volid: `local:vztmpl/${UBUNTU}` })]);
    expect((await d.pveam.available('system')).map((t) => t.template)).toContain(UBUNTU);
    expect(await d.pvesh.nextId()).toBe(101);
  });

  it('maps the tools’ error texts to typed errors', async () => {
    await expect(d.pct.config(999)).rejects.toBeInstanceOf(NotFoundError);
    await expect(d.qm.config(999)).rejects.toBeInstanceOf(NotFoundError);
    await expect(d.zfs.list('rpool/nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(d.pct.create(100, `local:vztmpl/${UBUNTU}`, { rootfs: 'local-zfs:4' })).rejects.toBeInstanceOf(AlreadyExistsError);
    const bad = await d.pct.set(100, { cores: 0 }, []).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    expect((bad as InvalidArgumentError).field).toBe('cores');
    expect((bad as Error).message).toContain('cores: value must have a minimum value of 1');
    await expect(d.pveam.download('local', 'no-such-template_1.0_amd64.tar.zst')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('sees a PVE lock as LOCKED', async () => {
    const { writeFileSync, readFileSync } = await import('node:fs');
    const file = `${stateDir}/lxc/100.conf`;
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(/^arch: /m, 'lock: backup\narch: '));
    await expect(d.pct.start(100)).rejects.toBeInstanceOf(LockedError);
    await d.pct.unlock(100);
    expect((await d.pct.config(100)).values['lock']).toBeUndefined();
  });

  it('reports NODE_DOWN when the cluster file system is gone, TIMEOUT for a hanging tool', async () => {
    await addFault(stateDir, { tool: 'pct', kind: 'node-down' });
    await expect(d.pct.list()).rejects.toBeInstanceOf(NodeDownError);
    await clearFaults(stateDir);
    await addFault(stateDir, { tool: 'pct', command: 'status', kind: 'hang' });
    const t0 = Date.now();
    await expect(d.pct.status(100, { timeoutMs: 500 })).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await clearFaults(stateDir);
  });

  it('edits raw lxc lines only in the live section and pct config shows them', async () => {
    await d.lxcConf.writeRaw(100, [
      { key: 'lxc.idmap', value: 'u 0 100000 65536' },
      { key: 'lxc.idmap', value: 'g 0 100000 65536' },
    ]);
    expect((await d.pct.config(100)).lxc).toEqual([
      { key: 'lxc.idmap', value: 'u 0 100000 65536' },
      { key: 'lxc.idmap', value: 'g 0 100000 65536' },
    ]);
    expect((await d.pct.config(100, { snapshot: 'first' })).lxc).toEqual([]);
  });

  it('runs commands in the guest, streaming lines, with the exit status as data', async () => {
    await d.pct.start(100);
    const lines: string[] = [];
    const res = await d.pct.exec(100, ['bash', '-c', 'echo one; echo two >&2; exit 4'], { mutating: false, onLine: (l, s) => lines.push(`${s}:${l}`) });
    expect(res).toMatchObject({ exitCode: 4, stdout: 'one', stderr: 'two' });
    expect(lines).toEqual(expect.arrayContaining(['stdout:one', 'stderr:two']));
  });

  it('reads NVIDIA facts from the node: devices with their numbers, driver version, GPU minors', async () => {
    const facts = await d.facts.nvidia();
    expect(facts.driverVersion).toMatch(/^\d+\.\d+\.\d+$/);
    const uvm = facts.devices.find((x) => x.path === '/dev/nvidia-uvm');
    expect(uvm?.major).toBeGreaterThan(0);
    expect(facts.devices.map((x) => x.path)).toEqual(expect.arrayContaining(['/dev/nvidia0', '/dev/nvidia1', '/dev/nvidiactl']));
    const gpus = await d.nvidia.queryGpus();
    expect(gpus.map((g) => g.index)).toEqual([0, 1]);
    expect(Object.keys(facts.minorsByBusId)).toHaveLength(2);
    expect((await d.nvidia.versions()).driverVersion).toBe(facts.driverVersion);
  });

  it('samples GPUs with one long-lived nvidia-smi process', async () => {
    const before = readCalls(stateDir).filter((c) => c.tool === 'nvidia-smi').length;
    const batches: GpuSample[][] = [];
    const sampler = new GpuSampler({ executor: d.executor, intervalMs: 100, onBatch: (b) => batches.push(b) });
    sampler.start();
    const end = Date.now() + 10_000;
    while (batches.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await sampler.stop();
    expect(batches.length).toBeGreaterThanOrEqual(3);
    expect(batches[1]?.map((s) => s.index)).toEqual([0, 1]);
    const spawned = readCalls(stateDir).filter((c) => c.tool === 'nvidia-smi').length - before;
    expect(spawned).toBeLessThanOrEqual(1);
  });
});
