/**
 * The emulated nvidia-smi against the real captures (test/fixtures/nvidia): with the emulated
 * GPU set to the captured values, every output must equal the capture byte for byte, apart from
 * the timestamp. Also: errors and exit codes, 8 GPUs, a sampling loop that sees live changes and
 * stops when killed or when its reader goes away, and the host facts the agent reads.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addFault, readCalls } from './src/index.js';
import { runNvidiaSmi, type Output } from './src/nvidia/cli.js';
import { nvidiaDeviceNodes, nvidiaDriverVersionText } from './src/nvidia/host-facts.js';
import { defaultGpu, readGpuState, removeGpuState, updateGpu, writeGpuState, type EmulatedGpu } from './src/nvidia/state.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');
const FIXTURES = join(repoRoot, 'test', 'fixtures', 'nvidia');
const BIN = join(here, 'bin', 'nvidia-smi');

async function fixture(name: string): Promise<string> {
  return readFile(join(FIXTURES, name), 'utf8');
}

/** The lines of a "### title" section of a capture file, up to its rc= line or the next section. */
async function section(file: string, title: string): Promise<string> {
  const lines = (await fixture(file)).split('\n');
  const start = lines.indexOf(`### ${title}`);
  expect(start, `section ${title}`).toBeGreaterThanOrEqual(0);
  const body: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (l.startsWith('### ') || /^rc=\d+$/.test(l)) break;
    body.push(l);
  }
  return `${body.join('\n')}\n`;
}

const TIMESTAMP_LINE = /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} {7}$/m;
const maskTime = (s: string): string =>
  s
    .replace(TIMESTAMP_LINE, '<time>')
    .replace(/<timestamp>.*<\/timestamp>/, '<timestamp/>')
    .replace(/^(Timestamp +: ).*$/m, '$1<time>');

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'nvsmi-test-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

function collect(): Output & { text: () => string } {
  let buf = '';
  return { write: async (t) => void (buf += t), closed: () => false, text: () => buf };
}

async function smi(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  const out = collect();
  const code = await runNvidiaSmi(args, { stateDir, out, env });
  return { code, out: out.text() };
}

/** The capture's GPU while the matrix multiply ran. */
const LOAD: Partial<EmulatedGpu> = {
  virtualizationMode: 'Pass-Through',
  memoryUsedMiB: 20213,
  memoryFreeMiB: 60867,
  bar1UsedMiB: 20214,
  utilizationGpu: 100,
  utilizationMemory: 33,
  temperatureGpu: 62,
  temperatureTlimit: 24,
  temperatureMemory: 55,
  powerDrawW: 696.84,
  powerDrawInstantW: 710.24,
  memoryPowerDrawW: 120.25,
  pcieTxKBs: 9267,
  pcieRxKBs: 19946,
  swPowerCapCounterUs: 8342304,
  clocks: { graphics: 1365, sm: 1365, memory: 2619, video: 1380 },
  computeApps: [{ pid: 427, name: 'python3', usedMemoryMiB: 20204, type: 'C' }],
};

describe('nvidia-smi against the H100 capture', () => {
  it('prints the idle summary table of the capture', async () => {
    await writeGpuState(stateDir, [{}]);
    const { code, out } = await smi([]);
    expect(code).toBe(0);
    expect(maskTime(out)).toBe(maskTime(await section('nvidia-idle.txt', 'nvidia-smi')));
  });

  it('prints the loaded summary table with the process row', async () => {
    await writeGpuState(stateDir, [{ ...LOAD, temperatureGpu: 61, powerDrawW: 699.6 }]);
    const { out } = await smi([]);
    expect(maskTime(out)).toBe(maskTime(await section('nvidia-load.txt', 'nvidia-smi (load)')));
  });

  it('lists GPUs with -L, to stdout or to the file -f names', async () => {
    await writeGpuState(stateDir, [{}]);
    const expected = await section('nvidia-idle.txt', 'nvidia-smi -L');
    expect((await smi(['-L'])).out).toBe(expected);
    const file = join(stateDir, 'list.txt');
    expect(await smi(['-L', '-f', file])).toEqual({ code: 0, out: '' });
    expect(await readFile(file, 'utf8')).toBe(expected);
  });

  const QUERY =
    'index,uuid,name,pci.bus_id,driver_version,memory.total,memory.used,memory.free,utilization.gpu,utilization.memory,' +
    'temperature.gpu,power.draw,power.limit,fan.speed,clocks.sm,clocks.mem,compute_mode,mig.mode.current';

  it('answers --query-gpu with header and units, echoing clocks.sm as clocks.current.sm', async () => {
    await writeGpuState(stateDir, [{ powerDrawW: 127.9 }]);
    const { code, out } = await smi([`--query-gpu=${QUERY}`, '--format=csv']);
    expect(code).toBe(0);
    expect(out).toBe(await section('nvidia-idle.txt', 'query csv header'));
  });

  it('answers --format=csv,noheader,nounits idle and under load', async () => {
    await writeGpuState(stateDir, [{ powerDrawW: 127.89 }]);
    expect((await smi([`--query-gpu=${QUERY}`, '--format=csv,noheader,nounits'])).out).toBe(
      await section('nvidia-idle.txt', 'query csv noheader nounits'),
    );
    await writeGpuState(stateDir, [{ ...LOAD, powerDrawW: 698.18, temperatureGpu: 60, clocks: { graphics: 1395, sm: 1395, memory: 2619, video: 1380 } }]);
    expect((await smi([`--query-gpu=${QUERY}`, '--format=csv,noheader,nounits'])).out).toBe(
      await section('nvidia-load.txt', 'query csv noheader nounits (load)'),
    );
  });

  it('answers the query the systeminformation package issues', async () => {
    const si =
      '--query-gpu=driver_version,pci.sub_device_id,name,pci.bus_id,fan.speed,memory.total,memory.used,memory.free,' +
      'utilization.gpu,utilization.memory,temperature.gpu,temperature.memory,power.draw,power.limit,clocks.gr,clocks.mem';
    await writeGpuState(stateDir, [{ powerDrawW: 127.88 }]);
    expect((await smi([si, '--format=csv,noheader,nounits'])).out).toBe(await section('nvidia-idle.txt', 'systeminformation query'));
  });

  it('answers --query-compute-apps: nothing idle, the process under load', async () => {
    const q = ['--query-compute-apps=gpu_uuid,pid,process_name,used_memory', '--format=csv,noheader,nounits'];
    await writeGpuState(stateDir, [{}]);
    expect((await smi(q)).out).toBe('');
    await writeGpuState(stateDir, [LOAD]);
    expect((await smi(q)).out).toBe(await section('nvidia-load.txt', 'compute apps (load)'));
    expect((await smi(['--query-compute-apps=pid,used_memory', '--format=csv'])).out).toBe('pid, used_gpu_memory [MiB]\n427, 20204 MiB\n');
  });

  it('prints topo -m with its ANSI header and legend', async () => {
    await writeGpuState(stateDir, [{}]);
    expect((await smi(['topo', '-m'])).out).toBe(await section('nvidia-idle.txt', 'topo'));
  });

  it('rejects an unknown field (exit 2) and an unknown index (exit 6) with the capture text', async () => {
    await writeGpuState(stateDir, [{}]);
    const bad = await smi(['--query-gpu=index,not.a.field', '--format=csv']);
    expect(bad.code).toBe(2);
    expect(bad.out).toBe(await section('nvidia-idle.txt', 'bad field'));
    const idx = await smi(['-i', '1', '--query-gpu=index', '--format=csv']);
    expect(idx.code).toBe(6);
    expect(idx.out).toBe(await section('nvidia-idle.txt', 'bad index'));
    expect((await smi(['--bogus'])).code).toBe(2);
    expect((await smi(['--query-gpu=index'])).code).toBe(2);
  });

  it('produces the -q -x XML report of the capture, idle and under load', async () => {
    await writeGpuState(stateDir, [
      {
        virtualizationMode: 'Pass-Through',
        powerDrawW: 126.95,
        powerDrawInstantW: 83.38,
        clocks: { graphics: 555, sm: 555, memory: 2619, video: 765 },
      },
    ]);
    expect(maskTime((await smi(['-q', '-x'])).out)).toBe(maskTime(await fixture('nvidia-q-idle.xml')));
    await writeGpuState(stateDir, [LOAD]);
    expect(maskTime((await smi(['-q', '-x'])).out)).toBe(maskTime(await fixture('nvidia-q-load.xml')));
  });

  it('produces the -q text report of the capture', async () => {
    await writeGpuState(stateDir, [
      {
        virtualizationMode: 'Pass-Through',
        temperatureGpu: 40,
        powerDrawW: 120.4,
        powerDrawInstantW: 73.74,
        memoryPowerDrawW: 34.67,
        pcieTxKBs: 980,
        pcieRxKBs: 579,
        clocks: { graphics: 555, sm: 555, memory: 2619, video: 765 },
      },
    ]);
    expect(maskTime((await smi(['-q'])).out)).toBe(maskTime(await fixture('nvidia-q-idle.txt')));
  });

  it('prints dmon rows in the capture layout, as many as -c asks', async () => {
    await writeGpuState(stateDir, [
      { ...LOAD, powerDrawInstantW: 700, temperatureGpu: 61, utilizationMemory: 34, clocks: { graphics: 1395, sm: 1395, memory: 2619, video: 1380 } },
    ]);
    const { out } = await smi(['dmon', '-c', '2', '-d', '0.05']);
    const expected = (await section('nvidia-load.txt', 'dmon 3 samples')).split('\n');
    const lines = out.split('\n');
    expect(lines.slice(0, 3)).toEqual(expected.slice(0, 3));
    expect(lines.filter((l) => l.startsWith('    0'))).toHaveLength(2);
  });
});

describe('nvidia-smi without GPUs', () => {
  it('fails like a node without a loaded driver when there is no state (exit 9)', async () => {
    const r = await smi(['-L']);
    expect(r.code).toBe(9);
    expect(r.out).toBe(
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n",
    );
    await writeGpuState(stateDir, [{}]);
    await removeGpuState(stateDir);
    expect((await smi([])).code).toBe(9);
    expect(await nvidiaDeviceNodes(stateDir)).toEqual([]);
  });

  it('reports "No devices were found" (exit 6) with the driver loaded and no GPU', async () => {
    await writeGpuState(stateDir, []);
    const r = await smi(['--query-gpu=name', '--format=csv']);
    expect(r).toEqual({ code: 6, out: 'No devices were found\n' });
  });
});

describe('nvidia-smi with 8 GPUs', () => {
  it('lists, selects and tabulates every GPU', async () => {
    await writeGpuState(
      stateDir,
      Array.from({ length: 8 }, (_, i) => defaultGpu(i, { nvlinks: 18 })),
    );
    const list = (await smi(['-L'])).out.trim().split('\n');
    expect(list).toHaveLength(8);
    expect(new Set(list.map((l) => /UUID: (GPU-[0-9a-f-]+)/.exec(l)?.[1])).size).toBe(8);
    expect((await smi(['--query-gpu=index,count', '--format=csv,noheader', '-i', '3,5'])).out).toBe('3, 8\n5, 8\n');
    const table = (await smi([])).out;
    expect(table.match(/NVIDIA H100 80GB HBM3 {10}On/g)).toHaveLength(8);
    expect(table.match(/^\+-{41}\+-{24}\+-{22}\+$/gm)).toHaveLength(9);
    const topo = (await smi(['topo', '-m'])).out.split('\n');
    expect(topo[1]).toBe(`GPU0\t X \t${Array(7).fill('NV18').join('\t')}\t0-15\t0\t\tN/A`);
    const uuid = list[6]?.match(/UUID: (\S+)\)/)?.[1] ?? '';
    expect((await smi(['--query-gpu=index', '--format=csv,noheader', '-i', uuid])).out).toBe('6\n');
  });

  it('leaves GPUs bound to vfio-pci (reserved for VMs) out of the host view and its device nodes', async () => {
    await writeGpuState(stateDir, [{}, { driverBinding: 'vfio-pci' }, {}]);
    expect((await smi(['--query-gpu=index,pci.bus_id', '--format=csv,noheader'])).out).toBe(
      '0, 00000000:00:06.0\n1, 00000000:00:08.0\n',
    );
    expect((await nvidiaDeviceNodes(stateDir)).filter((d) => /nvidia\d$/.test(d.path)).map((d) => d.path)).toEqual([
      '/dev/nvidia0',
      '/dev/nvidia2',
    ]);
  });

  it('sets persistence mode and the power limit like the driver does', async () => {
    await writeGpuState(stateDir, [{ persistenceMode: false }, {}]);
    expect((await smi(['-pm', '1'])).out).toBe(
      'Enabled persistence mode for GPU 00000000:00:06.0.\nPersistence mode is already Enabled for GPU 00000000:00:07.0.\nAll done.\n',
    );
    expect((await smi(['-i', '1', '-pl', '350'])).code).toBe(0);
    const tooHigh = await smi(['-i', '0', '-pl', '900']);
    expect(tooHigh.out).toContain('is not a valid power limit which should be between 200.00 W and 700.00 W');
    expect((await smi(['--query-gpu=persistence_mode,power.limit', '--format=csv,noheader'])).out).toBe(
      'Enabled, 700.00 W\nEnabled, 350.00 W\n',
    );
  });

  it('seeds the node from PVE_EMU_GPUS on first use with identities of its own', async () => {
    const r = await smi(['--query-gpu=index,uuid', '--format=csv,noheader'], { PVE_EMU_GPUS: '2' });
    expect(r.code).toBe(0);
    const rows = r.out.trim().split('\n');
    expect(rows).toHaveLength(2);
    expect(r.out).not.toContain('GPU-9c79dd20-7dc2-3a84-125a-d60a69e02844');
    expect((await readGpuState(stateDir, {}))?.gpus).toHaveLength(2);
  });
});

describe('nvidia-smi sampling loop', () => {
  it('re-reads the state every sample: a change shows up in a running -lms 200 loop', async () => {
    await writeGpuState(stateDir, [{}]);
    const lines: string[] = [];
    const ac = new AbortController();
    const out: Output = { write: async (t) => void lines.push(...t.trimEnd().split('\n')), closed: () => false };
    const done = runNvidiaSmi(['--query-gpu=index,utilization.gpu,memory.used', '--format=csv,noheader', '-lms', '200'], {
      stateDir,
      out,
      signal: ac.signal,
    });
    await expect.poll(() => lines.length, { timeout: 3000 }).toBeGreaterThanOrEqual(2);
    await updateGpu(stateDir, 0, { utilizationGpu: 87, memoryUsedMiB: 4096 });
    await expect.poll(() => lines.at(-1), { timeout: 3000 }).toBe('0, 87 %, 4096 MiB');
    expect(lines[0]).toBe('0, 0 %, 0 MiB');
    const t0 = Date.now();
    ac.abort();
    expect(await done).toBe(0);
    expect(Date.now() - t0).toBeLessThan(200);
  });

  it('the executable stops at once on SIGTERM and when its stdout is closed', async () => {
    expect(existsSync(join(here, '..', 'dist', 'emulator', 'src', 'nvidia', 'main.js')), 'run npx tsc -b first').toBe(true);
    await writeGpuState(stateDir, [{}]);
    const env = { ...process.env, PVE_EMU_STATE: stateDir };

    const a = spawn(BIN, ['--query-gpu=utilization.gpu', '--format=csv', '-lms', '200'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let got = '';
    a.stdout.on('data', (c: Buffer) => (got += c.toString()));
    await expect.poll(() => got.split('\n').length, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    expect(got.startsWith('utilization.gpu [%]\n0 %\n')).toBe(true);
    const t0 = Date.now();
    a.kill('SIGTERM');
    const sig = await new Promise((r) => a.on('close', (_c, s) => r(s)));
    expect(sig).toBe('SIGTERM');
    expect(Date.now() - t0).toBeLessThan(1000);

    const b = spawn(BIN, ['-lms', '100'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise((r) => b.stdout.once('data', r));
    b.stdout.destroy();
    const code = await new Promise((r) => b.on('close', (c) => r(c)));
    expect(code).toBe(141);

    // Like every emulated tool, each call is in calls.log: a loop with the status it ended with.
    expect(readCalls(stateDir).map((c) => [c.tool, c.argv.at(-1), c.exitCode])).toEqual([
      ['nvidia-smi', '200', 143],
      ['nvidia-smi', '100', 141],
    ]);
  });

  it('the executable logs every call and obeys injected faults', async () => {
    await writeGpuState(stateDir, [{}]);
    const env = { ...process.env, PVE_EMU_STATE: stateDir };
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const p = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        p.stdout.on('data', (c: Buffer) => (out += c.toString()));
        p.stderr.on('data', (c: Buffer) => (err += c.toString()));
        p.on('close', (code) => resolve({ code, out, err }));
      });
    expect((await run(['-L'])).code).toBe(0);
    await addFault(stateDir, { tool: 'nvidia-smi', kind: 'fail', message: 'Unable to determine the device handle for GPU0000:01:00.0: Unknown Error', exitCode: 15 });
    expect(await run(['-L'])).toEqual({ code: 15, out: '', err: 'Unable to determine the device handle for GPU0000:01:00.0: Unknown Error\n' });
    expect((await run(['-L'])).code).toBe(0);
    expect(readCalls(stateDir).map((c) => c.exitCode)).toEqual([0, 15, 0]);
  });
});

describe('host facts', () => {
  it('writes the device nodes and driver version file of the capture', async () => {
    await writeGpuState(stateDir, [{}, {}]);
    const nodes = await nvidiaDeviceNodes(stateDir);
    expect(nodes.map((n) => `${n.path} ${n.major}:${n.minor}`)).toEqual([
      '/dev/nvidia0 195:0',
      '/dev/nvidia1 195:1',
      '/dev/nvidiactl 195:255',
      '/dev/nvidia-uvm 238:0',
      '/dev/nvidia-uvm-tools 238:1',
      '/dev/nvidia-caps/nvidia-cap1 241:1',
      '/dev/nvidia-caps/nvidia-cap2 241:2',
    ]);
    const version = await nvidiaDriverVersionText(stateDir);
    expect(version).toBe((await section('nvidia-idle.txt', 'driver version file')));
    if (process.getuid?.() === 0) {
      const s = await stat(join(stateDir, 'host', 'dev', 'nvidia-uvm'));
      expect(s.isCharacterDevice()).toBe(true);
      expect(Math.floor(s.rdev / 256)).toBe(238);
    }
    await writeGpuState(stateDir, [{}], { uvmMajor: 511 });
    expect((await nvidiaDeviceNodes(stateDir)).find((n) => n.path === '/dev/nvidia-uvm')?.major).toBe(511);
  });
});
