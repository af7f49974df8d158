/**
 * GPU passthrough for containers. The requested GPU indices (nvidia-smi numbering) are mapped to
 * their device nodes through the PCI address and /proc's "Device Minor" (the two numberings can
 * differ), and the shared nodes (nvidiactl, nvidia-uvm, nvidia-uvm-tools) are added. Majors and
 * minors always come from the node. Two ways to hand them to the container:
 *  - dev: `devN: /dev/nvidia0` entries (PVE ≥ 8.1 creates the nodes and cgroup rules itself);
 *  - raw: `lxc.cgroup2.devices.allow: c <major>:<minor> rwm` + `lxc.mount.entry` bind lines.
 * Either way the entries follow the spec: added, and removed when the request goes away.
 */
import { FailedPreconditionError, InvalidArgumentError } from '@phoenix/shared';
import { normalizeBusId } from '../drivers/node-facts.js';
import { parsePropertyString } from '../drivers/parse-config.js';
import type { DeviceNodeFact, GpuSample, NvidiaFacts, RawLxcLine } from '../drivers/types.js';

export type GpuMode = 'dev' | 'raw';

const SHARED_NODES = ['/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools'];

/** Device nodes for the requested GPUs, in a stable order. */
export function selectGpuDevices(indices: readonly number[], gpus: readonly GpuSample[], facts: NvidiaFacts): DeviceNodeFact[] {
  if (indices.length === 0) return [];
  const out: DeviceNodeFact[] = [];
  indices.forEach((index, k) => {
    const gpu = gpus.find((g) => g.index === index);
    if (!gpu) {
      const have = gpus.map((g) => g.index).join(', ') || 'none';
      throw new InvalidArgumentError(`gpu.indices[${k}]`, index, `this node has no GPU ${index} (GPUs: ${have})`);
    }
    const minor = facts.minorsByBusId[normalizeBusId(gpu.pciBusId)] ?? index;
    const dev = facts.devices.find((d) => d.path === `/dev/nvidia${minor}`);
    if (!dev) throw new FailedPreconditionError(`GPU ${index} (${gpu.pciBusId}) has no /dev/nvidia${minor} on this node`);
    out.push(dev);
  });
  out.sort((a, b) => a.minor - b.minor);
  for (const path of SHARED_NODES) {
    const dev = facts.devices.find((d) => d.path === path);
    if (dev) out.push(dev);
    else if (path === '/dev/nvidiactl') throw new FailedPreconditionError('/dev/nvidiactl is missing on this node: is the NVIDIA driver loaded?');
  }
  return out;
}

function isNvidiaPath(p: string | undefined): boolean {
  return p !== undefined && /^\/dev\/nvidia/.test(p);
}

/**
 * dev mode: `devN` keys to set and delete so that exactly `devices` are passed through. Entries
 * for other devices (not /dev/nvidia*) are left alone; kept entries keep their slot, freed slots
 * are not reused in the same change.
 */
export function planDevEntries(current: Readonly<Record<string, string>>, devices: readonly DeviceNodeFact[]): { set: Record<string, string>; delete: string[] } {
  const wanted = new Set(devices.map((d) => d.path));
  const used = new Set<number>();
  const present = new Set<string>();
  const del: string[] = [];
  for (const [key, value] of Object.entries(current)) {
    const m = /^dev(\d+)$/.exec(key);
    if (!m) continue;
    const path = parsePropertyString(value, 'path').get('path');
    // A deleted slot is not reused in the same call: PVE refuses to set and delete one key at once.
    used.add(Number(m[1]));
    if (isNvidiaPath(path) && (!wanted.has(path ?? '') || present.has(path ?? ''))) {
      del.push(key);
      continue;
    }
    if (path) present.add(path);
  }
  const set: Record<string, string> = {};
  let slot = 0;
  for (const d of devices) {
    if (present.has(d.path)) continue;
    while (used.has(slot)) slot++;
    set[`dev${slot}`] = d.path;
    used.add(slot);
  }
  return { set, delete: del.sort() };
}

/** raw mode: cgroup rule per device node plus a bind mount entry each. */
export function gpuRawLines(devices: readonly DeviceNodeFact[]): RawLxcLine[] {
  const allow = devices.map((d) => ({ key: 'lxc.cgroup2.devices.allow', value: `c ${d.major}:${d.minor} rwm` }));
  const mounts = devices.map((d) => ({
    key: 'lxc.mount.entry',
    value: `${d.path} ${d.path.slice(1)} none bind,optional,create=file`,
  }));
  return [...allow, ...mounts];
}
