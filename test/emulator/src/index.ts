import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJson, writeFileAtomic } from './core/atomic-file.js';
import { isMutating, readCalls as readCallsFile, type CallRecord } from './core/calls-log.js';
import { parseConfig, type GuestConfig } from './core/config-file.js';
import { readFaults, writeFaults, type FaultRule } from './core/faults.js';
import { State } from './core/state.js';
import { FAULTS_ENV, type OpenShiftFaults } from './openshift-install/faults.js';
import { defaultStorages, ensureInitialized, type InitStorage, type NodeInit } from './node-init.js';
import type { InitPool, ZfsState } from './zfs/model.js';

/**
 * Typed access to an emulated PVE node for tests: initialise its state directory, inject
 * faults, read the call log and guest configs, change its time scale.
 */
export type { CallRecord, FaultRule, GuestConfig, InitPool, InitStorage, NodeInit };
export type { InitDisk } from './host/disks.js';
export { defaultStorages, isMutating };
export type { OpenShiftFaults };

/**
 * Writes the faults of the emulated `openshift-install` to `file`; invocations whose
 * environment names the file in PHOENIX_EMU_OPENSHIFT_FAULTS read it on every run.
 */
export function setOpenShiftFaults(file: string, faults: OpenShiftFaults): void {
  writeFileAtomic(file, `${JSON.stringify(faults)}\n`);
}

/** The environment variable that names the fault file of `openshift-install`. */
export const OPENSHIFT_FAULTS_ENV = FAULTS_ENV;

/** Directory holding the executables (pct, qm, pvesh, pvesm, pveam, zfs, zpool, nvidia-smi, openshift-install). */
export function emulatorBinDir(): string {
  for (const rel of ['../bin', '../../../emulator/bin']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (fs.existsSync(path.join(p, 'pct'))) return p;
  }
  throw new Error('emulator bin directory not found');
}

function stateOf(stateDir: string, node = 'pve'): State {
  return new State({ stateDir: path.resolve(stateDir), node, timeScale: 1 });
}

/** Creates and initialises a node state directory (no-op when it is already initialised). */
export async function initNode(stateDir: string, opts: { node?: string; init?: NodeInit } = {}): Promise<void> {
  await ensureInitialized(stateOf(stateDir, opts.node), opts.init ?? {});
}

/** Replaces the node's fault rules (and resets their call counters). */
export async function setFaults(stateDir: string, rules: FaultRule[]): Promise<void> {
  await writeFaults(stateOf(stateDir), { rules });
}

export async function addFault(stateDir: string, rule: FaultRule): Promise<void> {
  const s = stateOf(stateDir);
  const cur = readFaults(s);
  await writeFaults(s, { rules: [...cur.rules, rule] });
}

export async function clearFaults(stateDir: string): Promise<void> {
  await setFaults(stateDir, []);
}

/** Every invocation so far (one JSON line per call in calls.log). */
export function readCalls(stateDir: string): CallRecord[] {
  return readCallsFile(path.join(stateDir, 'calls.log'));
}

/** Invocations that may have changed node state (create, set, start, zfs create, ...). */
export function mutatingCalls(stateDir: string): CallRecord[] {
  return readCalls(stateDir).filter(isMutating);
}

/** Sets the node's time scale; it overrides PVE_EMU_TIME_SCALE for every later invocation. */
export function setTimeScale(stateDir: string, scale: number): void {
  if (!Number.isFinite(scale) || scale < 0) throw new RangeError(`time scale must be >= 0, got ${scale}`);
  writeFileAtomic(path.join(stateDir, 'time-scale'), `${scale}\n`);
}

/** Raw text of a guest config as PVE writes it, or undefined when the guest does not exist. */
export function readGuestConfigText(stateDir: string, vmid: number): string | undefined {
  for (const dir of ['lxc', 'qemu-server']) {
    try {
      return fs.readFileSync(path.join(stateDir, dir, `${vmid}.conf`), 'utf8');
    } catch {
      // try the other type
    }
  }
  return undefined;
}

/** Parsed guest config (props, description, raw lxc entries, pending, snapshots). */
export function readGuestConfig(stateDir: string, vmid: number): (GuestConfig & { type: 'lxc' | 'qemu' }) | undefined {
  for (const [dir, type] of [
    ['lxc', 'lxc'],
    ['qemu-server', 'qemu'],
  ] as const) {
    let raw: string;
    try {
      raw = fs.readFileSync(path.join(stateDir, dir, `${vmid}.conf`), 'utf8');
    } catch {
      continue;
    }
    return { ...parseConfig(raw, type, vmid), type };
  }
  return undefined;
}

export function guestRunning(stateDir: string, vmid: number): boolean {
  return fs.existsSync(path.join(stateDir, 'run', `lxc-${vmid}.json`)) || fs.existsSync(path.join(stateDir, 'run', `qemu-${vmid}.json`));
}

/** Names of the emulated ZFS datasets (including snapshots). */
export function zfsDatasets(stateDir: string): string[] {
  return Object.keys(readJson<ZfsState>(path.join(stateDir, 'zfs.json'), { txg: 0, pools: {}, datasets: {} }).datasets).sort();
}

/** Root filesystem directory of a guest (where the guest module keeps its files). */
export function guestRootfs(stateDir: string, vmid: number): string {
  return path.join(stateDir, 'guests', String(vmid), 'rootfs');
}
