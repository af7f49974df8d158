import type { InitDisk, InitPool, InitStorage } from '../emulator/src/index.js';
import type { DriverInfo, EmulatedGpu } from '../emulator/src/nvidia/state.js';

/** Options of one emulated node. */
export interface NodeOptions {
  /** Node name (PVE_EMU_NODE); default `pve<N>` with N counting from 1. */
  name?: string;
  cpus?: number;
  memoryMb?: number;
  bridges?: string[];
  /** Replaces the default storages (local, local-zfs). A relative `path` is taken inside the node's state dir. */
  storages?: InitStorage[];
  /** Added to the default storages. */
  extraStorages?: InitStorage[];
  /** Extra zpools (and datasets below them). */
  zpools?: InitPool[];
  /** GPUs for the nvidia-smi emulation: a count of default GPUs or partial GPU entries. */
  gpus?: number | Array<Partial<EmulatedGpu>>;
  /** NVIDIA driver facts; `null` writes a node whose driver is not loaded. */
  gpuDriver?: Partial<DriverInfo> | null;
  /** Block devices (for lsblk and zpool create); none accepts any /dev path. */
  disks?: InitDisk[];
  /** Templates already present in `local:vztmpl/` (as if `pveam download` had run). */
  templates?: string[];
}

export interface HarnessOptions {
  /** Number of nodes when `nodes` is not given (default 1). */
  count?: number;
  /** Per-node options; its length sets the number of nodes. */
  nodes?: NodeOptions[];
  /** PVE_EMU_TIME_SCALE of every node (default 0.01). */
  timeScale?: number;
  /** Parent directory for the temporary state directories (default os.tmpdir()). */
  baseDir?: string;
}

/** One running emulated node, ready to hand to an agent. */
export interface EmulatedNode {
  name: string;
  stateDir: string;
  binDir: string;
  /** Environment for processes acting on this node: PATH (binDir first), PVE_EMU_STATE, PVE_EMU_NODE, PVE_EMU_TIME_SCALE. */
  env: Record<string, string>;
}

export interface EmulatedNodes {
  nodes: EmulatedNode[];
  /** Temporary directory holding every node's state. */
  dir: string;
  /** Removes all state directories. */
  teardown(): Promise<void>;
}
