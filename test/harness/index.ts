import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { emulatorBinDir, initNode, type NodeInit } from '../emulator/src/index.js';
import type { EmulatedNode, EmulatedNodes, HarnessOptions, NodeOptions } from './node-options.js';
import { seedGpus, seedTemplates } from './seed.js';

/**
 * Starts N emulated Proxmox VE nodes for a test: a temporary state directory per node, distinct
 * node names, and the environment an agent needs to drive the node through the emulated
 * `pct`/`qm`/`pvesh`/`pvesm`/`pveam`/`zfs`/`zpool`/`nvidia-smi` executables.
 */
export type { EmulatedNode, EmulatedNodes, HarnessOptions, NodeOptions };
export { seedTemplates };

export async function startNodes(opts: HarnessOptions = {}): Promise<EmulatedNodes> {
  const specs: NodeOptions[] = opts.nodes ?? Array.from({ length: opts.count ?? 1 }, () => ({}));
  const dir = await fs.mkdtemp(path.join(opts.baseDir ?? os.tmpdir(), 'pve-emu-'));
  const binDir = emulatorBinDir();
  const timeScale = String(opts.timeScale ?? 0.01);
  const names = new Set<string>();
  const nodes: EmulatedNode[] = [];
  try {
    for (const [i, spec] of specs.entries()) {
      const name = spec.name ?? `pve${i + 1}`;
      if (names.has(name)) throw new Error(`duplicate node name '${name}'`);
      names.add(name);
      const stateDir = path.join(dir, name);
      const init: NodeInit = {};
      if (spec.cpus !== undefined) init.cpus = spec.cpus;
      if (spec.memoryMb !== undefined) init.memoryMb = spec.memoryMb;
      if (spec.bridges) init.bridges = spec.bridges;
      if (spec.storages) init.storages = spec.storages;
      if (spec.extraStorages) init.extraStorages = spec.extraStorages;
      if (spec.zpools) init.zpools = spec.zpools;
      if (spec.disks) init.disks = spec.disks;
      await initNode(stateDir, { node: name, init });
      if (spec.templates?.length) seedTemplates(stateDir, spec.templates);
      await seedGpus(stateDir, spec);
      nodes.push({
        name,
        stateDir,
        binDir,
        env: {
          PATH: `${binDir}${path.delimiter}${process.env['PATH'] ?? ''}`,
          PVE_EMU_STATE: stateDir,
          PVE_EMU_NODE: name,
          PVE_EMU_TIME_SCALE: timeScale,
        },
      });
    }
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    nodes,
    dir,
    teardown: async () => {
      await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
