/**
 * The emulated GPUs of one node: `$PVE_EMU_STATE/gpus.json`.
 *
 * - File absent: the node has no NVIDIA driver loaded (nvidia-smi fails with exit 9).
 * - `driver: null`: same, written explicitly.
 * - `driver` set and `gpus: []`: driver loaded but no GPU bound to it ("No devices were found", exit 6).
 *
 * Every entry of `gpus` may be partial: missing fields come from `defaultGpu(index, entry)`, so a
 * test can write `[{ name: 'NVIDIA L40S' }]`. nvidia-smi re-reads this file on every sample, so
 * `updateGpu` changes what a running `nvidia-smi -l` loop prints next.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeHostFacts } from './host-facts.js';
import { modelByName } from './models.js';
import type { DriverInfo, EmulatedGpu, GpuState } from './types.js';

export type { ComputeMode, DriverInfo, EmulatedGpu, GpuClocks, GpuProcess, GpuState, ProcessType } from './types.js';

export const GPU_STATE_FILE = 'gpus.json';

export const DEFAULT_DRIVER_VERSION = '580.159.04';
export const DEFAULT_CUDA_VERSION = '13.0';

export function defaultDriver(overrides: Partial<DriverInfo> = {}): DriverInfo {
  const version = overrides.version ?? DEFAULT_DRIVER_VERSION;
  return {
    version,
    cudaVersion: overrides.cudaVersion ?? DEFAULT_CUDA_VERSION,
    uvmMajor: overrides.uvmMajor ?? 238,
    capsMajor: overrides.capsMajor ?? 241,
    procVersionText:
      overrides.procVersionText ??
      `NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  ${version}  Release Build  (nixbld@)  \n` +
        'GCC version:  gcc version 15.3.0 (GCC) \n',
  };
}

/** The GPU of the capture: UUID, serial and bus id of index 0 are the fixture's. */
const FIXTURE_UUID = 'GPU-9c79dd20-7dc2-3a84-125a-d60a69e02844';
const FIXTURE_SERIAL = '1752724007370';

function hashHex(input: string): string {
  return createHash('sha256').update(input).digest('hex');
}

function derivedUuid(seed: string): string {
  const h = hashHex(seed);
  return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function derivedSerial(seed: string): string {
  return String(1_000_000_000_000 + (Number.parseInt(hashHex(seed).slice(0, 12), 16) % 900_000_000_000));
}

/** Bus ids like a VM with passthrough slots: index 0 is the capture's 00:06.0, then 00:07.0, … */
export function defaultBusId(index: number): string {
  return `00000000:00:${(6 + index).toString(16).toUpperCase().padStart(2, '0')}.0`;
}

/**
 * A complete idle GPU. With no overrides, index 0 is exactly the captured H100 (idle); the
 * identity of other indexes is derived deterministically from `index` and `overrides.name`
 * (pass `uuid`/`serial` to make several nodes' GPUs distinct).
 */
export function defaultGpu(index: number, overrides: Partial<EmulatedGpu> = {}): EmulatedGpu {
  const m = modelByName(overrides.name);
  const seed = `${m.name}#${index}`;
  const isFixture = index === 0 && m.name === 'NVIDIA H100 80GB HBM3';
  const base: EmulatedGpu = {
    index,
    minorNumber: index,
    name: m.name,
    brand: m.brand,
    architecture: m.architecture,
    uuid: isFixture ? FIXTURE_UUID : derivedUuid(seed),
    pciBusId: defaultBusId(index),
    pciDeviceId: m.pciDeviceId,
    pciSubSystemId: m.pciSubSystemId,
    serial: isFixture ? FIXTURE_SERIAL : derivedSerial(seed),
    vbiosVersion: m.vbiosVersion,
    boardId: `0x${(6 + index).toString(16)}`,
    boardPartNumber: m.boardPartNumber,
    gpuPartNumber: m.gpuPartNumber,
    moduleId: isFixture ? 7 : index + 1,
    pdi: isFixture ? '0x9bf9864ef260bfb6' : `0x${hashHex(`pdi:${seed}`).slice(0, 16)}`,
    inforom: { image: m.inforomImage, oem: m.inforomOem, ecc: m.inforomEcc },
    computeCap: m.computeCap,
    persistenceMode: true,
    displayActive: false,
    virtualizationMode: 'None',
    memoryTotalMiB: m.memoryTotalMiB,
    memoryReservedMiB: m.memoryReservedMiB,
    memoryUsedMiB: 0,
    memoryFreeMiB: null,
    bar1TotalMiB: m.bar1TotalMiB,
    bar1UsedMiB: 1,
    utilizationGpu: 0,
    utilizationMemory: 0,
    utilizationEncoder: 0,
    utilizationDecoder: 0,
    utilizationJpeg: 0,
    utilizationOfa: 0,
    temperatureGpu: 41,
    temperatureMemory: m.tempThresholds.tlimit ? 41 : null,
    temperatureTlimit: m.tempThresholds.tlimit ? 47 : null,
    powerDrawW: m.idlePowerW,
    powerDrawInstantW: m.idlePowerW,
    memoryPowerDrawW: m.tempThresholds.tlimit ? 34.31 : null,
    powerLimitW: m.powerLimitW,
    powerDefaultLimitW: m.powerLimitW,
    powerMinLimitW: m.powerMinLimitW,
    powerMaxLimitW: m.powerMaxLimitW,
    fanSpeedPercent: m.fanSpeedPercent,
    pstate: 'P0',
    clocks: { ...m.idleClocks },
    maxClocks: { ...m.maxClocks },
    applicationsClocks: { graphics: m.maxClocks.graphics, memory: m.maxClocks.memory },
    defaultApplicationsClocks: { graphics: m.maxClocks.graphics, memory: m.maxClocks.memory },
    supportedMemoryClocks: [...m.supportedMemoryClocks],
    minGraphicsClock: m.minGraphicsClock,
    computeMode: 'Default',
    eccEnabled: m.eccEnabled,
    migMode: m.migCapable ? 'Disabled' : null,
    pcieGenMax: m.pcieGenMax,
    pcieGenCurrent: m.pcieGenMax,
    pcieWidthMax: m.pcieWidthMax,
    pcieWidthCurrent: m.pcieWidthMax,
    pcieTxKBs: 885,
    pcieRxKBs: 578,
    swPowerCapCounterUs: 0,
    remapBanks: m.remapBanks,
    tempThresholds: { ...m.tempThresholds },
    computeApps: [],
    numaNode: 0,
    cpuAffinity: '0-15',
    nvlinks: 0,
    driverBinding: 'nvidia',
  };
  return { ...base, ...withoutUndefined(overrides), index };
}

/** Free framebuffer memory as nvidia-smi prints it. */
export function memoryFree(g: EmulatedGpu): number {
  return g.memoryFreeMiB ?? Math.max(0, g.memoryTotalMiB - g.memoryReservedMiB - g.memoryUsedMiB);
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function gpuStatePath(stateDir: string): string {
  return join(stateDir, GPU_STATE_FILE);
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/** Error of a gpus.json that cannot be used; names the file. */
export class GpuStateError extends Error {
  readonly code = 'EMU_GPU_STATE_INVALID';
  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super(`${path}: ${reason}`, options);
    this.name = 'GpuStateError';
  }
}

function normalise(raw: unknown, path: string): GpuState {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new GpuStateError(path, 'expected an object with "driver" and "gpus"');
  }
  const o = raw as { driver?: unknown; gpus?: unknown };
  const driver =
    o.driver === null ? null : defaultDriver(typeof o.driver === 'object' ? (o.driver as Partial<DriverInfo>) : {});
  if (o.gpus !== undefined && !Array.isArray(o.gpus)) throw new GpuStateError(path, '"gpus" must be an array');
  const gpus = ((o.gpus ?? []) as Partial<EmulatedGpu>[]).map((g, i) => defaultGpu(g.index ?? i, g));
  return { driver, gpus };
}

/**
 * Parses the `PVE_EMU_GPUS` seed: a count of default H100s, an array of partial GPUs, or a state
 * object. With `identitySeed` (the node's state dir), GPUs without an explicit uuid/serial get
 * identities derived from it, so several seeded nodes never share a GPU UUID.
 */
export function parseGpuSeed(text: string, identitySeed?: string): GpuState {
  const raw: unknown = JSON.parse(text);
  let partial: Partial<EmulatedGpu>[];
  let driver: unknown = {};
  if (typeof raw === 'number') partial = Array.from({ length: raw }, () => ({}));
  else if (Array.isArray(raw)) partial = raw as Partial<EmulatedGpu>[];
  else if (typeof raw === 'object' && raw !== null) {
    const o = raw as { driver?: unknown; gpus?: unknown };
    driver = o.driver;
    partial = Array.isArray(o.gpus) ? (o.gpus as Partial<EmulatedGpu>[]) : [];
  } else throw new GpuStateError('PVE_EMU_GPUS', 'expected a number, an array or an object');
  if (identitySeed !== undefined) {
    partial = partial.map((g, i) => ({
      ...g,
      uuid: g.uuid ?? derivedUuid(`${identitySeed}#${g.index ?? i}`),
      serial: g.serial ?? derivedSerial(`${identitySeed}#${g.index ?? i}`),
    }));
  }
  return normalise({ driver, gpus: partial }, 'PVE_EMU_GPUS');
}

/**
 * Reads the node's GPU state; null when the node has no driver. When the file is absent and
 * `PVE_EMU_GPUS` is set, the seed is written first (first use of the node).
 */
export async function readGpuState(stateDir: string, env: NodeJS.ProcessEnv = process.env): Promise<GpuState | null> {
  const path = gpuStatePath(stateDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const seed = env['PVE_EMU_GPUS'];
    if (seed === undefined || seed === '') return null;
    const seeded = parseGpuSeed(seed, stateDir);
    await writeGpuState(stateDir, seeded.gpus, seeded.driver);
    return seeded.driver === null ? null : seeded;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new GpuStateError(path, 'not valid JSON', { cause: err });
  }
  const state = normalise(raw, path);
  return state.driver === null ? null : state;
}

/**
 * Writes the node's GPUs (partial entries are completed with defaults) and the host facts that go
 * with a loaded driver (device nodes, /proc/driver/nvidia/version; see host-facts.ts).
 * `driver: null` writes a node whose driver is not loaded.
 */
export async function writeGpuState(
  stateDir: string,
  gpus: readonly Partial<EmulatedGpu>[],
  driver: Partial<DriverInfo> | null = {},
): Promise<GpuState> {
  const state: GpuState = {
    driver: driver === null ? null : defaultDriver(driver),
    gpus: gpus.map((g, i) => defaultGpu(g.index ?? i, g)),
  };
  await mkdir(stateDir, { recursive: true });
  await writeAtomic(gpuStatePath(stateDir), `${JSON.stringify(state, null, 2)}\n`);
  await writeHostFacts(stateDir, state);
  return state;
}

/** Removes gpus.json: the node behaves as one without an NVIDIA driver. */
export async function removeGpuState(stateDir: string): Promise<void> {
  await rm(gpuStatePath(stateDir), { force: true });
  await writeHostFacts(stateDir, null);
}

/** Changes one GPU (by its index in gpus.json) in place, e.g. `{ utilizationGpu: 100, memoryUsedMiB: 20213 }`. */
export async function updateGpu(stateDir: string, index: number, patch: Partial<EmulatedGpu>): Promise<EmulatedGpu> {
  return updateGpuWhere(stateDir, (g) => g.index === index, `index ${index}`, patch);
}

/** Changes the GPU with this UUID in place. */
export async function updateGpuByUuid(stateDir: string, uuid: string, patch: Partial<EmulatedGpu>): Promise<EmulatedGpu> {
  return updateGpuWhere(stateDir, (g) => g.uuid === uuid, `uuid ${uuid}`, patch);
}

async function updateGpuWhere(
  stateDir: string,
  match: (g: EmulatedGpu) => boolean,
  what: string,
  patch: Partial<EmulatedGpu>,
): Promise<EmulatedGpu> {
  const state = await readGpuState(stateDir, {});
  if (state === null) throw new GpuStateError(gpuStatePath(stateDir), 'no GPU state (driver not loaded)');
  const pos = state.gpus.findIndex(match);
  const current = state.gpus[pos];
  if (current === undefined) throw new GpuStateError(gpuStatePath(stateDir), `no GPU with ${what}`);
  const next: EmulatedGpu = { ...current, ...withoutUndefined(patch), index: current.index };
  state.gpus[pos] = next;
  await writeAtomic(gpuStatePath(stateDir), `${JSON.stringify(state, null, 2)}\n`);
  return next;
}
