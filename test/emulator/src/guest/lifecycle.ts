/**
 * Guest lifecycle and configuration as the core emulator (pct/qm) applies it:
 * - `startGuest` / `stopGuest`: runtime state (/run) is lost on stop; enabled units (and docker
 *   containers with a restart policy) come back on start.
 * - `setGuestGpuDevices`: the /dev/nvidia* nodes that `lxc.mount.entry` lines bind into a CT on
 *   start; the guest's nvidia-smi sees exactly these GPUs.
 * - faults the guest's network and package archive show (curl, wget, apt, pip, docker pull, ping).
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nvidiaDeviceNodes, type DeviceNode } from '../nvidia/host-facts.js';
import { GuestError } from './errors.js';
import { execInGuest } from './exec.js';
import { runTool } from './proc.js';
import { hostTool } from './rootfs.js';

async function emuBoot(rootfs: string, action: 'start' | 'stop'): Promise<void> {
  const r = await execInGuest(rootfs, ['/usr/bin/bash', '/usr/lib/emu/sbin/emu-boot', action], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) {
    throw new GuestError('EMU_GUEST_EXEC_FAILED', `emu-boot ${action} failed: ${r.stderr.toString()}`);
  }
}

/** The guest booted: units enabled for multi-user/default.target start. */
export function startGuest(rootfs: string): Promise<void> {
  return emuBoot(rootfs, 'start');
}

/** The guest shut down: /run is emptied, services and containers stop. */
export function stopGuest(rootfs: string): Promise<void> {
  return emuBoot(rootfs, 'stop');
}

/**
 * Makes /dev/nvidiactl, /dev/nvidia-uvm, /dev/nvidia-uvm-tools and /dev/nvidia<minor> for each
 * given minor exist in the guest (those the host has; like `bind,optional` entries, missing host
 * devices are skipped) and removes any other /dev/nvidia* node. `[]` removes them all.
 */
export async function setGuestGpuDevices(rootfs: string, minors: readonly number[], stateDir: string): Promise<void> {
  const dev = join(rootfs, 'dev');
  for (const name of await readdir(dev).catch(() => [] as string[])) {
    if (name.startsWith('nvidia')) await rm(join(dev, name), { recursive: true, force: true });
  }
  if (minors.length === 0) return;
  const host = await nvidiaDeviceNodes(stateDir);
  const wanted = new Set(['/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools', ...minors.map((m) => `/dev/nvidia${m}`)]);
  const mknod = await hostTool('mknod');
  for (const node of host.filter((n: DeviceNode) => wanted.has(n.path))) {
    const p = join(rootfs, node.path);
    let made = false;
    if (mknod !== null && process.getuid?.() === 0) {
      made = (await runTool(mknod, ['-m', '666', p, 'c', String(node.major), String(node.minor)])).code === 0;
    }
    if (!made) await writeFile(p, '');
  }
}

/**
 * A VM's passthrough GPUs (`hostpciN` of host GPUs bound to vfio-pci): records their host PCI bus
 * ids and creates the device nodes the VM's own driver would (/dev/nvidiactl, /dev/nvidia0…).
 * Run the VM's commands with `gpuPassthrough: 'vm'`.
 */
export async function setVmGpus(rootfs: string, pciBusIds: readonly string[]): Promise<void> {
  const dev = join(rootfs, 'dev');
  for (const name of await readdir(dev).catch(() => [] as string[])) {
    if (name.startsWith('nvidia')) await rm(join(dev, name), { recursive: true, force: true });
  }
  await mkdir(join(rootfs, 'var/lib/emu/nvidia'), { recursive: true });
  await writeFile(join(rootfs, 'var/lib/emu/nvidia/pci-gpus'), pciBusIds.map((b) => `${b}\n`).join(''));
  if (pciBusIds.length === 0) return;
  const mknod = await hostTool('mknod');
  const nodes: [string, number, number][] = [
    ['nvidiactl', 195, 255],
    ['nvidia-uvm', 510, 0],
    ...pciBusIds.map((_, i): [string, number, number] => [`nvidia${i}`, 195, i]),
  ];
  for (const [name, major, minor] of nodes) {
    const p = join(dev, name);
    const made = mknod !== null && process.getuid?.() === 0 && (await runTool(mknod, ['-m', '666', p, 'c', String(major), String(minor)])).code === 0;
    if (!made) await writeFile(p, '');
  }
}

export type NetworkFaultKind = 'dns' | 'refused' | 'timeout' | 'http404' | 'http500' | 'offline';

export interface NetworkFault {
  /** Host name or URL; shell glob patterns allowed ("*" = everything). */
  match: string;
  kind: NetworkFaultKind;
}

/** Replaces the guest's network faults (none: the emulated network answers everything). */
export async function setGuestNetworkFaults(rootfs: string, faults: readonly NetworkFault[]): Promise<void> {
  const dir = join(rootfs, 'var/lib/emu/faults');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'net'), faults.map((f) => `${f.match} ${f.kind}\n`).join(''));
}

/** Packages the guest's apt cannot find even with their repository configured. */
export async function setGuestMissingPackages(rootfs: string, names: readonly string[]): Promise<void> {
  const dir = join(rootfs, 'var/lib/emu/faults');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'apt-missing'), names.map((n) => `${n}\n`).join(''));
}

/** Names of the packages dpkg has installed in the guest, sorted. */
export async function guestInstalledPackages(rootfs: string): Promise<string[]> {
  return (await readdir(join(rootfs, 'var/lib/emu/dpkg')).catch(() => [] as string[])).sort();
}

/** Runtime state of a unit as `systemctl is-active` prints it. */
export async function guestUnitState(rootfs: string, unit: string): Promise<string> {
  const name = unit.includes('.') ? unit : `${unit}.service`;
  return (await readFile(join(rootfs, 'run/emu/units', name), 'utf8').catch(() => 'inactive')).trim();
}
