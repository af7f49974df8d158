/**
 * GPU passthrough for VMs: one `hostpciN: 0000:18:00.0,pcie=1` per requested GPU (pcie=1 needs
 * `machine: q35`; qemu-server refuses it on i440fx at start).
 *
 * GPU indices are nvidia-smi's numbering with every GPU on the host driver: the node's NVIDIA GPUs
 * in PCI order. A VM's start binds its GPUs to vfio-pci; the host's nvidia-smi then no longer
 * lists them and numbers the rest anew. So the inventory is what nvidia-smi lists plus the
 * devices the node's VMs pass through that it does not list, and a running, converged VM keeps
 * its GPUs. A GPU another guest holds (a VM's hostpciN, a container's /dev/nvidia<minor>) is
 * refused before anything changes.
 */
import { FailedPreconditionError, InvalidArgumentError } from '@phoenix/shared';
import { gpuNumbering, hostPciOf, passedThroughDevices, pciAddress } from '../drivers/gpu-numbering.js';
import { normalizeBusId } from '../drivers/node-facts.js';

export { hostPciOf, pciAddress };
import { parsePropertyString, parsePveBool } from '../drivers/parse-config.js';
import type { GuestConfig } from '../drivers/types.js';
import { sig, type PipelineContext } from './context.js';

const MAX_HOSTPCI = 16;

export function isQ35(machine: string | undefined): boolean {
  return /q35/.test(machine ?? '');
}

/** hostpciN values for the GPUs, in PCI order. */
export function hostPciEntries(addresses: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  [...addresses].sort().forEach((a, i) => (out[`hostpci${i}`] = `${a},pcie=1`));
  return out;
}

/**
 * Keys to set and delete so that exactly `addresses` are passed through with pcie=1 (the spec owns
 * every hostpciN entry, as it owns mount points). Options of a matching entry (rombar, x-vga …)
 * stay as they are.
 */
export function planHostPci(current: Readonly<Record<string, string>>, addresses: readonly string[]): { set: Record<string, string>; delete: string[] } {
  const wanted = hostPciEntries(addresses);
  const set: Record<string, string> = {};
  const del: string[] = [];
  for (let i = 0; i < MAX_HOSTPCI; i++) {
    const key = `hostpci${i}`;
    const cur = current[key];
    const want = wanted[key];
    if (want === undefined) {
      if (cur !== undefined) del.push(key);
      continue;
    }
    const c = cur === undefined ? undefined : parsePropertyString(cur, 'host');
    const same = c !== undefined && pciAddress(c.get('host') ?? '') === want.split(',')[0] && parsePveBool(c.get('pcie'));
    if (!same) set[key] = want;
  }
  return { set, delete: del };
}

/** Who holds which GPU on the node, by PCI address (the VM being ensured left out). */
async function holders(
  c: PipelineContext,
  self: number,
  visible: ReadonlyArray<{ index: number; busId: string }>,
  o: { signal?: AbortSignal },
): Promise<{ byAddress: Map<string, string>; passedThrough: Set<string> }> {
  const byAddress = new Map<string, string>();
  const devices = await passedThroughDevices(c.d.qm, sig(o));
  const passedThrough = new Set(devices.keys());
  for (const [address, vms] of devices) {
    const other = vms.find((v) => v !== self);
    if (other !== undefined) byAddress.set(address, `VM ${other}`);
  }
  // A container's /dev/nvidia<minor> is the GPU with that minor, found as selectGpuDevices does.
  const facts = await c.d.facts.nvidia();
  const byMinor = new Map(visible.map((g) => [facts.minorsByBusId[normalizeBusId(g.busId)] ?? g.index, pciAddress(g.busId)]));
  for (const ct of await c.d.pct.list(sig(o))) {
    const cfg = await c.d.pct.config(ct.vmid, sig(o));
    if (parsePveBool(cfg.values['template'])) continue;
    for (const minor of containerGpuMinors(cfg)) {
      const address = byMinor.get(minor);
      if (address && !byAddress.has(address)) byAddress.set(address, `CT ${ct.vmid}`);
    }
  }
  return { byAddress, passedThrough };
}

/** /dev/nvidia<minor> a container gets, through devN entries or raw bind mounts. */
function containerGpuMinors(cfg: GuestConfig): number[] {
  const paths = [
    ...Object.entries(cfg.values).filter(([k]) => /^dev\d+$/.test(k)).map(([, v]) => parsePropertyString(v, 'path').get('path') ?? ''),
    ...cfg.lxc.filter((l) => l.key === 'lxc.mount.entry').map((l) => l.value.split(/\s+/)[0] ?? ''),
  ];
  return paths.map((p) => /^\/dev\/nvidia(\d+)$/.exec(p)?.[1]).filter((m): m is string => m !== undefined).map(Number);
}

/** PCI addresses of the requested GPUs; refuses unknown GPUs and GPUs another guest holds. */
export async function resolveVmGpus(c: PipelineContext, vmid: number, indices: readonly number[], o: { signal?: AbortSignal }): Promise<string[]> {
  if (indices.length === 0) return [];
  const visible = (await c.d.nvidia.queryGpus(sig(o))).map((g) => ({ index: g.index, busId: g.pciBusId, address: pciAddress(g.pciBusId) }));
  const held = await holders(c, vmid, visible, o);
  const numbering = gpuNumbering(visible, held.passedThrough);
  return indices.map((index, k) => {
    const address = numbering[index];
    if (address === undefined) {
      throw new InvalidArgumentError(`gpu.indices[${k}]`, index, `this node has no GPU ${index} (GPUs: ${numbering.map((_, i) => i).join(', ') || 'none'})`);
    }
    const holder = held.byAddress.get(address);
    if (holder) throw new FailedPreconditionError(`GPU ${index} (${address}) is already passed through to ${holder}`, { details: { gpu: index, address, holder } });
    return address;
  });
}
