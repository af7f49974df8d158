/**
 * Facts read from the node itself, never hard-coded: the NVIDIA character devices with their
 * major/minor numbers (stat of /dev/nvidia*; the uvm major differs between nodes and boots) and
 * the kernel driver version (/proc/driver/nvidia/version, else nvidia-smi).
 *
 * `hostRoot` (agent config `tools.hostRoot`) prefixes /dev and /proc, so a test node can point it at
 * a fake tree. Where device nodes cannot be created (non-root), such a tree holds the same list as
 * `dev-nvidia.json` beside them; it is read only when no device node is found.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseProcDriverVersion } from './parse-nvidia.js';
import type { DeviceNodeFact, NodeFactsReader, NvidiaFacts, NvidiaSmiDriver } from './types.js';

export interface NodeFactsOptions {
  /** @default "/" */
  hostRoot?: string;
  /** Fallback for the driver version when /proc has none. */
  nvidiaSmi?: NvidiaSmiDriver;
}

/** Linux dev_t → major/minor (glibc's gnu_dev_major/minor). */
export function decodeDev(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}

/** PCI address in one form for both nvidia-smi (00000000:00:06.0) and /proc (0000:00:06.0). */
export function normalizeBusId(bus: string): string {
  const m = /^([0-9a-fA-F]+):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(bus.trim());
  if (!m) return bus.trim().toLowerCase();
  return `${parseInt(m[1] ?? '0', 16).toString(16).padStart(4, '0')}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase();
}

const DEVICE_NAME = /^nvidia(\d+|ctl|-uvm|-uvm-tools|-modeset)$/;

export class NodeFacts implements NodeFactsReader {
  private readonly root: string;
  constructor(private readonly opts: NodeFactsOptions = {}) {
    this.root = opts.hostRoot ?? '/';
  }

  async nvidia(): Promise<NvidiaFacts> {
    const devices = await this.nvidiaDevices();
    let driverVersion: string | undefined;
    try {
      driverVersion = parseProcDriverVersion(await readFile(join(this.root, 'proc/driver/nvidia/version'), 'utf8'));
    } catch {
      driverVersion = undefined;
    }
    if (driverVersion === undefined && this.opts.nvidiaSmi && devices.length > 0) {
      driverVersion = (await this.opts.nvidiaSmi.versions()).driverVersion;
    }
    return { driverVersion, devices, minorsByBusId: await this.gpuMinors() };
  }

  /** /proc/driver/nvidia/gpus/<bus>/information: "Device Minor:" per GPU. */
  private async gpuMinors(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const dir = join(this.root, 'proc/driver/nvidia/gpus');
    let buses: string[];
    try {
      buses = await readdir(dir);
    } catch {
      return out;
    }
    for (const bus of buses) {
      try {
        const info = await readFile(join(dir, bus, 'information'), 'utf8');
        const m = /^Device Minor:\s*(\d+)/m.exec(info);
        if (m?.[1] !== undefined) out[normalizeBusId(bus)] = Number(m[1]);
      } catch {
        // GPU vanished or not readable.
      }
    }
    return out;
  }

  private async nvidiaDevices(): Promise<DeviceNodeFact[]> {
    const out: DeviceNodeFact[] = [];
    const devDir = join(this.root, 'dev');
    const candidates: string[] = [];
    try {
      for (const name of await readdir(devDir)) if (DEVICE_NAME.test(name)) candidates.push(`/dev/${name}`);
    } catch {
      // No /dev under the root: no devices.
    }
    try {
      for (const name of await readdir(join(devDir, 'nvidia-caps'))) candidates.push(`/dev/nvidia-caps/${name}`);
    } catch {
      // No MIG capability devices.
    }
    for (const path of candidates) {
      try {
        const st = await stat(join(this.root, path), { bigint: true });
        if (!st.isCharacterDevice()) continue;
        out.push({ path, ...decodeDev(st.rdev) });
      } catch {
        // Vanished between readdir and stat.
      }
    }
    if (out.length === 0) {
      try {
        const listed = JSON.parse(await readFile(join(this.root, 'dev-nvidia.json'), 'utf8')) as Array<Partial<DeviceNodeFact>>;
        for (const d of listed) {
          if (typeof d.path === 'string' && typeof d.major === 'number' && typeof d.minor === 'number') {
            out.push({ path: d.path, major: d.major, minor: d.minor });
          }
        }
      } catch {
        // No fake device list either.
      }
    }
    return out.sort((x, y) => x.path.localeCompare(y.path, 'en', { numeric: true }));
  }
}
