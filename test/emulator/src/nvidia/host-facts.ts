/**
 * Host facts that come with a loaded NVIDIA driver, written under `$PVE_EMU_STATE/host/` as a
 * miniature host root so the agent's node-facts code reads them by path exactly as on a real node:
 *
 *   host/dev/nvidia0 … nvidiaN, nvidiactl, nvidia-uvm, nvidia-uvm-tools, nvidia-caps/nvidia-cap{1,2}
 *       real character device nodes (mknod, when running as root) with the majors/minors of the
 *       capture: stat() gives the same rdev as on the node. Nothing ever opens them.
 *   host/dev-nvidia.json   the same list as JSON (for readers that cannot stat, or non-root runs)
 *   host/proc/driver/nvidia/version            text of the kernel module version file
 *   host/proc/driver/nvidia/gpus/<bus>/information
 *
 * How the agent finds them: the emulator starts the agent with `PVE_EMU_DEVROOT=$PVE_EMU_STATE/host`;
 * the agent prefixes `/dev/nvidia*` and `/proc/driver/nvidia/*` with it when set (default "/").
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GpuState } from './types.js';

export interface DeviceNode {
  /** Path on the node, e.g. /dev/nvidia0. */
  path: string;
  type: 'c';
  major: number;
  minor: number;
  /** ls -l mode string, e.g. crw-rw-rw-. */
  mode: string;
}

export const NVIDIA_MAJOR = 195;
export const NVIDIACTL_MINOR = 255;

export function hostRoot(stateDir: string): string {
  return join(stateDir, 'host');
}

/** The device nodes a node with this state has (empty without a driver). */
export function deviceNodesFor(state: GpuState | null): DeviceNode[] {
  if (state === null || state.driver === null) return [];
  const rw = 'crw-rw-rw-';
  const nodes: DeviceNode[] = state.gpus
    .filter((g) => g.driverBinding === 'nvidia')
    .map((g) => g.minorNumber)
    .sort((a, b) => a - b)
    .map((minor) => ({ path: `/dev/nvidia${minor}`, type: 'c', major: NVIDIA_MAJOR, minor, mode: rw }));
  nodes.push(
    { path: '/dev/nvidiactl', type: 'c', major: NVIDIA_MAJOR, minor: NVIDIACTL_MINOR, mode: rw },
    { path: '/dev/nvidia-uvm', type: 'c', major: state.driver.uvmMajor, minor: 0, mode: rw },
    { path: '/dev/nvidia-uvm-tools', type: 'c', major: state.driver.uvmMajor, minor: 1, mode: rw },
    { path: '/dev/nvidia-caps/nvidia-cap1', type: 'c', major: state.driver.capsMajor, minor: 1, mode: 'cr--------' },
    { path: '/dev/nvidia-caps/nvidia-cap2', type: 'c', major: state.driver.capsMajor, minor: 2, mode: 'cr--r--r--' },
  );
  return nodes;
}

function modeBits(mode: string): string {
  let bits = 0;
  const flags = mode.slice(1);
  for (let i = 0; i < 9; i++) if (flags[i] !== '-') bits |= 1 << (8 - i);
  return bits.toString(8);
}

function run(file: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

function gpuInformation(state: GpuState, index: number): string {
  const g = state.gpus[index];
  if (g === undefined) return '';
  const bus = g.pciBusId.replace(/^0000(?=[0-9A-Fa-f]{4}:)/, '').toLowerCase();
  return (
    `Model: \t\t ${g.name}\n` +
    `IRQ:   \t\t ${160 + g.minorNumber}\n` +
    `GPU UUID: \t ${g.uuid}\n` +
    `Video BIOS: \t ${g.vbiosVersion.toLowerCase()}\n` +
    'Bus Type: \t PCIe\n' +
    'DMA Size: \t 52 bits\n' +
    'DMA Mask: \t 0xfffffffffffff\n' +
    `Bus Location: \t ${bus}\n` +
    `Device Minor: \t ${g.minorNumber}\n` +
    'GPU Excluded:\t No\n'
  );
}

/** Rewrites host/ for this state; called by writeGpuState/removeGpuState. */
export async function writeHostFacts(stateDir: string, state: GpuState | null): Promise<void> {
  const root = hostRoot(stateDir);
  await rm(join(root, 'dev'), { recursive: true, force: true });
  await rm(join(root, 'proc', 'driver', 'nvidia'), { recursive: true, force: true });
  const nodes = deviceNodesFor(state);
  await mkdir(root, { recursive: true });
  const jsonPath = join(root, 'dev-nvidia.json');
  const tmp = `${jsonPath}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(nodes, null, 2)}\n`);
  await rename(tmp, jsonPath);
  if (state === null || state.driver === null) return;

  const procDir = join(root, 'proc', 'driver', 'nvidia');
  await mkdir(procDir, { recursive: true });
  await writeFile(join(procDir, 'version'), state.driver.procVersionText);
  for (let i = 0; i < state.gpus.length; i++) {
    const g = state.gpus[i];
    if (g === undefined) continue;
    const dir = join(procDir, 'gpus', g.pciBusId.replace(/^0000(?=[0-9A-Fa-f]{4}:)/, '').toLowerCase());
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'information'), gpuInformation(state, i));
  }

  if (process.getuid?.() !== 0) return;
  await mkdir(join(root, 'dev', 'nvidia-caps'), { recursive: true });
  for (const n of nodes) {
    await run('mknod', ['-m', modeBits(n.mode), join(root, n.path), 'c', String(n.major), String(n.minor)]);
  }
}

/** The node's /dev/nvidia* nodes as the emulator wrote them (empty when no driver is loaded). */
export async function nvidiaDeviceNodes(stateDir: string): Promise<DeviceNode[]> {
  try {
    return JSON.parse(await readFile(join(hostRoot(stateDir), 'dev-nvidia.json'), 'utf8')) as DeviceNode[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Text of /proc/driver/nvidia/version, or null when no driver is loaded. */
export async function nvidiaDriverVersionText(stateDir: string): Promise<string | null> {
  try {
    return await readFile(join(hostRoot(stateDir), 'proc', 'driver', 'nvidia', 'version'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
