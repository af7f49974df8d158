/**
 * One numbering of a node's NVIDIA GPUs for the whole agent (VM passthrough, telemetry, the API):
 * nvidia-smi's own numbering with every GPU on the host driver, i.e. the GPUs in PCI order. A VM's
 * start binds its GPUs to vfio-pci and the host's nvidia-smi then lists only the rest, numbered
 * anew; so the inventory is what nvidia-smi lists plus the devices VMs pass through that it does
 * not list, and indices stay what they were at boot.
 */
import { normalizeBusId } from './node-facts.js';
import { parsePropertyString, parsePveBool } from './parse-config.js';
import type { QmDriver } from './types.js';

const HOSTPCI_KEY = /^hostpci(\d|1[0-5])$/;

/** A PCI address as hostpci and sysfs write it: 00000000:18:00.0 → 0000:18:00.0, lowercase. */
export function pciAddress(busId: string): string {
  const id = normalizeBusId(busId);
  return /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(id) ? `0000:${id}` : id;
}

/** The devices a config's hostpciN entries name, by key. */
export function hostPciOf(values: Readonly<Record<string, string>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(values)) {
    if (!HOSTPCI_KEY.test(key)) continue;
    const host = parsePropertyString(value, 'host').get('host');
    if (host) out.set(key, pciAddress(host));
  }
  return out;
}

/** PCI address of each GPU index: `visible` is what nvidia-smi lists now. */
export function gpuNumbering(visible: ReadonlyArray<{ index: number; busId: string }>, passedThrough: Iterable<string>): string[] {
  const listed = new Set(visible.map((g) => pciAddress(g.busId)));
  const hidden = [...new Set(passedThrough)].filter((a) => !listed.has(a));
  // Nothing hidden: nvidia-smi's numbering is the inventory's.
  if (hidden.length === 0) return [...visible].sort((a, b) => a.index - b.index).map((g) => pciAddress(g.busId));
  return [...listed, ...hidden].sort();
}

/**
 * Devices the node's VMs pass through: PCI address → the VMIDs that name it (templates never run
 * and hold nothing; their clones replace the entries).
 */
export async function passedThroughDevices(qm: QmDriver, opts: { signal?: AbortSignal } = {}): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const vm of await qm.list(opts)) {
    const cfg = await qm.config(vm.vmid, opts);
    if (parsePveBool(cfg.values['template'])) continue;
    for (const address of hostPciOf(cfg.values).values()) out.set(address, [...(out.get(address) ?? []), vm.vmid]);
  }
  return out;
}
