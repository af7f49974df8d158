import fs from 'node:fs';
import path from 'node:path';
import { findAppliance } from '../emulator/src/pveam/aplinfo.js';
import { writeGpuState, type EmulatedGpu } from '../emulator/src/nvidia/state.js';
import type { NodeOptions } from './node-options.js';

/** Puts templates into the node's `local` storage, as `pveam download` would. */
export function seedTemplates(stateDir: string, templates: string[]): void {
  const dir = path.join(stateDir, 'storage', 'local', 'template', 'cache');
  fs.mkdirSync(dir, { recursive: true });
  for (const t of templates) {
    const file = path.join(dir, t);
    if (fs.existsSync(file)) continue;
    fs.writeFileSync(file, '');
    // Sparse file of the real download size: listed with the right size, costs no disk space.
    fs.truncateSync(file, findAppliance(t)?.size ?? 128 * 1024 * 1024);
  }
}

/** Writes the node's GPUs in the format of the nvidia-smi emulation (gpus.json). */
export async function seedGpus(stateDir: string, opts: NodeOptions): Promise<void> {
  if (opts.gpus === undefined && opts.gpuDriver === undefined) return;
  const gpus: Array<Partial<EmulatedGpu>> = typeof opts.gpus === 'number' ? Array.from({ length: opts.gpus }, () => ({})) : (opts.gpus ?? []);
  await writeGpuState(stateDir, gpus, opts.gpuDriver === undefined ? {} : opts.gpuDriver);
}
