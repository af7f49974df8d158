import fs from 'node:fs';
import type { GuestConfig } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { readJson, writeJson } from '../core/atomic-file.js';
import { die } from '../core/errors.js';
import { tryParsePropertyString } from '../core/property-string.js';
import { isRunning, runState } from '../guest-common/guest-store.js';
import { readGpuState, writeGpuState } from '../nvidia/state.js';

/**
 * Host PCI passthrough (`hostpciN`) at VM start, as PVE::QemuServer::PCI does it: creation accepts
 * any syntactically valid id; `qm start` looks each id up among the node's PCI devices
 * (parse_hostpci → SysFSTools::lspci) and reserves the devices it found for the VM
 * (reserve_pci_usage), so a device held by another running VM is refused. `pcie=1` needs a q35
 * machine (parse_hostpci_devices). Devices without `driver=keep` are bound to vfio-pci
 * (prepare_pci_device) and stay there after the VM stops: the host's nvidia-smi no longer lists
 * them. The node's PCI devices are its emulated GPUs (gpus.json).
 */

const MAX_HOSTPCI_DEVICES = 16;

/** `run/pci-id-reservations`: PCI id → the VM holding it, by pid once started, by time before. */
type Reservations = Record<string, { vmid: number; pid?: number; time?: number }>;

/** nvidia-smi's bus id (00000000:01:00.0) as sysfs names the device (0000:01:00.0). */
export function sysfsPciId(nvidiaBusId: string): string {
  const m = /^([0-9A-Fa-f]+):([0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7])$/.exec(nvidiaBusId);
  if (!m) return nvidiaBusId.toLowerCase();
  return `${(m[1] ?? '').slice(-4).padStart(4, '0')}:${m[2] ?? ''}`.toLowerCase();
}

/** The node's PCI devices, by sysfs id. */
async function nodePciDevices(ctx: Ctx): Promise<string[]> {
  const gpus = await readGpuState(ctx.state.dir, {});
  return (gpus?.gpus ?? []).map((g) => sysfsPciId(g.pciBusId)).sort();
}

/** SysFSTools::lspci($filter): the devices whose id, with or without the 0000 domain, starts with it. */
function lspci(devices: readonly string[], filter: string): string[] {
  return devices.filter((id) => id.startsWith(filter) || id.replace(/^0000:/, '').startsWith(filter));
}

/** PVE::QemuServer::Machine::machine_type_is_q35. */
function isQ35(conf: GuestConfig): boolean {
  return /q35/.test(conf.props['machine'] ?? '');
}

/** parse_hostpci for every hostpciN: the devices each one names; dies when an id names none. */
async function hostPciDevices(ctx: Ctx, conf: GuestConfig): Promise<{ ids: string[]; vfio: string[] }> {
  const devices: string[] = [];
  const vfio: string[] = [];
  let node: string[] | undefined;
  for (let i = 0; i < MAX_HOSTPCI_DEVICES; i++) {
    const value = conf.props[`hostpci${i}`];
    if (!value) continue;
    const d = tryParsePropertyString('pve-qm-hostpci', value) ?? {};
    if (d['pcie'] === '1' && !isQ35(conf)) die('q35 machine model is not enabled');
    if (d['mapping'] !== undefined) die(`PCI device mapping not found for '${d['mapping']}'`);
    const host = d['host'];
    if (host === undefined) die("Either 'host' or 'mapping' must be set.");
    node ??= await nodePciDevices(ctx);
    for (const id of host.split(';')) {
      const found = lspci(node, id);
      if (!found.length) die(`no PCI device found for '${id}'`);
      devices.push(...found);
      if (d['driver'] !== 'keep') vfio.push(...found);
    }
  }
  return { ids: devices, vfio };
}

/** pci_dev_bind_to_vfio: the GPUs leave the host driver (and the host's nvidia-smi). */
async function bindToVfio(ctx: Ctx, ids: readonly string[]): Promise<void> {
  if (!ids.length) return;
  const state = await readGpuState(ctx.state.dir, {});
  if (state === null) return;
  const wanted = new Set(ids);
  if (!state.gpus.some((g) => wanted.has(sysfsPciId(g.pciBusId)) && g.driverBinding !== 'vfio-pci')) return;
  const gpus = state.gpus.map((g) => (wanted.has(sysfsPciId(g.pciBusId)) ? { ...g, driverBinding: 'vfio-pci' as const } : g));
  await writeGpuState(ctx.state.dir, gpus, state.driver);
}

function reservationsFile(ctx: Ctx): string {
  return ctx.state.file('run', 'pci-id-reservations.json');
}

/** reserve_pci_usage: refuses devices another running VM holds; `pid` set once the VM runs. */
async function reserve(ctx: Ctx, vmid: number, ids: readonly string[], hold: { pid?: number; timeoutSec?: number }): Promise<void> {
  if (!ids.length) return;
  await ctx.state.withStateLock(() => {
    const list = readJson<Reservations>(reservationsFile(ctx), {});
    const now = Math.floor(Date.now() / 1000);
    for (const id of ids) {
      const r = list[id];
      if (r && r.vmid !== vmid) {
        if (r.time !== undefined && r.time > now) die(`PCI device '${id}' is currently reserved for use by VMID '${r.vmid}'`);
        if (r.pid !== undefined) {
          if (isRunning(ctx.state, 'qemu', r.vmid) && runState(ctx.state, 'qemu', r.vmid)?.pid === r.pid) {
            die(`PCI device '${id}' already in use by VMID '${r.vmid}'`);
          }
          ctx.err(`leftover PCI reservation found for ${id}, lets take it...\n`);
        }
      }
      list[id] = hold.pid !== undefined ? { vmid, pid: hold.pid } : { vmid, time: now + (hold.timeoutSec ?? 30) + 5 };
    }
    writeJson(reservationsFile(ctx), list);
  });
}

/** remove_pci_reservation: everything the VM holds (at stop, or when its start fails). */
export async function releasePciDevices(ctx: Ctx, vmid: number): Promise<void> {
  if (!fs.existsSync(reservationsFile(ctx))) return;
  await ctx.state.withStateLock(() => {
    const list = readJson<Reservations>(reservationsFile(ctx), {});
    let changed = false;
    for (const [id, r] of Object.entries(list)) {
      if (r.vmid !== vmid) continue;
      delete list[id];
      changed = true;
    }
    if (changed) writeJson(reservationsFile(ctx), list);
  });
}

/**
 * The part of vm_start_nolock that deals with hostpciN: look the devices up, reserve them for the
 * start, run `start`, then hold them by the VM's pid. A failed start gives them back.
 */
export async function withPciDevices(ctx: Ctx, vmid: number, conf: GuestConfig, start: () => Promise<number>): Promise<void> {
  const { ids, vfio } = await hostPciDevices(ctx, conf);
  await reserve(ctx, vmid, ids, { timeoutSec: 30 });
  await bindToVfio(ctx, vfio);
  let pid: number;
  try {
    pid = await start();
  } catch (err) {
    if (ids.length) await releasePciDevices(ctx, vmid);
    throw err;
  }
  await reserve(ctx, vmid, ids, { pid });
}
