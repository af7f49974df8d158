/** What a node has committed to its guests, the base of capacity checks and of `phoenix nodes`. */
import type { NodeView } from './types.js';

export interface NodeUsage {
  /** vCPUs of guests that can run (templates excluded). */
  readonly allocatedCores: number;
  readonly allocatedMemoryMiB: number;
  readonly guestCount: number;
  /** Per GPU index: how many guests use it, and whether one holds it exclusively. */
  readonly gpuUsers: ReadonlyMap<number, { readonly users: number; readonly exclusive: boolean }>;
  /** Names of template guests and their snapshots, as `name@snapshot` ("name@" for any). */
  readonly templateKeys: readonly string[];
}

/**
 * Memory and cores are counted as configured on every guest that can run, stopped ones too (they
 * may start at any time); Proxmox templates cannot run and count nothing.
 */
export function nodeUsage(node: NodeView): NodeUsage {
  let cores = 0;
  let memory = 0;
  let count = 0;
  const gpuUsers = new Map<number, { users: number; exclusive: boolean }>();
  const keys: string[] = [];
  for (const g of node.guests) {
    if (g.name !== undefined) {
      keys.push(`${g.name}@`);
      for (const s of g.snapshots) keys.push(`${g.name}@${s}`);
    }
    if (g.template) continue;
    count++;
    cores += g.cores;
    memory += g.memoryMiB;
    for (const idx of g.gpus) {
      const cur = gpuUsers.get(idx) ?? { users: 0, exclusive: false };
      gpuUsers.set(idx, { users: cur.users + 1, exclusive: cur.exclusive || g.gpuExclusive });
    }
  }
  return { allocatedCores: cores, allocatedMemoryMiB: memory, guestCount: count, gpuUsers, templateKeys: keys };
}
