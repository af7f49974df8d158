/**
 * A view written down as YAML or JSON (`--view view.yaml`), so the scheduler can be exercised
 * without agents. Same fields as telemetry; times are ISO 8601 strings or epoch milliseconds.
 * A node with neither `status` nor `lastHeartbeat` is taken as up: the file vouches for it.
 */
import { z } from 'zod';
import { nodeNameSchema, storageIdSchema } from '@phoenix/shared';
import { labelsSchema } from '../spec/primitives.js';
import { STORAGE_CONTENT } from '../spec/host.js';
import { SpecError } from '../spec/errors.js';
import { parseYamlText, readTextFile } from '../spec/load.js';
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_MISSED_HEARTBEATS } from './liveness.js';
import { toGpu, toGuest, toStorage } from './telemetry.js';
import type { ClusterView, NodeView } from './types.js';

const timeSchema = z.union([
  z.number().int().min(0),
  z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 time'),
]);

const gpuSchema = z.strictObject({
  index: z.number().int().min(0).max(63),
  model: z.string().min(1),
  uuid: z.string().optional(),
  memoryTotalMiB: z.number().min(0),
  memoryFreeMiB: z.number().min(0),
  utilizationPct: z.number().min(0).max(100).default(0),
});

const storageSchema = z.strictObject({
  id: storageIdSchema,
  type: z.string().min(1),
  totalGiB: z.number().min(0),
  freeGiB: z.number().min(0),
  content: z.array(z.enum(STORAGE_CONTENT)).default([]),
  shared: z.boolean().default(false),
  active: z.boolean().default(true),
});

const guestSchema = z.strictObject({
  vmid: z.number().int().min(100).max(999_999_999),
  name: z.string().optional(),
  type: z.enum(['lxc', 'qemu']),
  status: z.enum(['running', 'stopped', 'paused', 'unknown']).default('running'),
  template: z.boolean().default(false),
  snapshots: z.array(z.string()).default([]),
  cores: z.number().min(0).default(0),
  memoryMiB: z.number().min(0).default(0),
  diskGiB: z.number().min(0).default(0),
  storage: storageIdSchema.optional(),
  gpus: z.array(z.number().int().min(0)).default([]),
  gpuExclusive: z.boolean().default(false),
  groups: z.array(z.string()).default([]),
});

const nodeSchema = z.strictObject({
  name: nodeNameSchema,
  labels: labelsSchema.default({}),
  status: z.enum(['up', 'down']).optional(),
  lastHeartbeat: timeSchema.optional(),
  cpu: z.strictObject({
    cores: z.number().int().min(0),
    usagePct: z.number().min(0).max(100).optional(),
    reservedCores: z.number().min(0).default(0),
  }),
  memory: z.strictObject({
    totalMiB: z.number().min(0),
    usedMiB: z.number().min(0).optional(),
    reservedMiB: z.number().min(0).default(0),
  }),
  storages: z.array(storageSchema).default([]),
  gpus: z.array(gpuSchema).default([]),
  osTemplates: z.array(z.string()).default([]),
  guests: z.array(guestSchema).default([]),
});

export const viewFileSchema = z.strictObject({
  cluster: z.string().optional(),
  observedAt: timeSchema.optional().describe('"now" for liveness; defaults to the time of reading'),
  heartbeatIntervalSeconds: z.number().positive().default(DEFAULT_HEARTBEAT_INTERVAL_MS / 1000),
  missedHeartbeats: z.number().int().min(1).default(DEFAULT_MISSED_HEARTBEATS),
  nodes: z.array(nodeSchema),
});
export type ViewFile = z.input<typeof viewFileSchema>;

function toMs(t: number | string): number {
  return typeof t === 'number' ? t : Date.parse(t);
}

/** Validates file data into a view; `now` is used when the file has no observedAt. */
export function viewFromData(data: unknown, now: number): ClusterView {
  const parsed = viewFileSchema.safeParse(data);
  if (!parsed.success) throw SpecError.fromZod(parsed.error, data);
  const f = parsed.data;
  const issues: { path: string; value: unknown; reason: string }[] = [];
  const seen = new Set<string>();
  f.nodes.forEach((n, i) => {
    if (seen.has(n.name)) issues.push({ path: `nodes.${i}.name`, value: n.name, reason: 'duplicate node name' });
    seen.add(n.name);
    n.gpus.forEach((g, j) => {
      if (g.memoryFreeMiB > g.memoryTotalMiB) {
        issues.push({ path: `nodes.${i}.gpus.${j}.memoryFreeMiB`, value: g.memoryFreeMiB, reason: 'more than memoryTotalMiB' });
      }
    });
    n.storages.forEach((s, j) => {
      if (s.freeGiB > s.totalGiB) issues.push({ path: `nodes.${i}.storages.${j}.freeGiB`, value: s.freeGiB, reason: 'more than totalGiB' });
    });
  });
  if (issues.length > 0) throw SpecError.fromIssues(issues);

  const nodes: NodeView[] = f.nodes.map((n) => {
    const last = n.lastHeartbeat === undefined ? undefined : toMs(n.lastHeartbeat);
    return {
      name: n.name,
      labels: n.labels,
      cpu: { cores: n.cpu.cores, usagePct: n.cpu.usagePct, reservedCores: n.cpu.reservedCores },
      memory: { totalMiB: n.memory.totalMiB, usedMiB: n.memory.usedMiB, reservedMiB: n.memory.reservedMiB },
      storages: n.storages.map(toStorage).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
      gpus: n.gpus.map(toGpu).sort((a, b) => a.index - b.index),
      guests: n.guests.map(toGuest).sort((a, b) => a.vmid - b.vmid),
      osTemplates: [...n.osTemplates].sort(),
      lastHeartbeat: last,
      statusOverride: n.status ?? (last === undefined ? 'up' : undefined),
      sampledAt: { node: last ?? 0, gpu: last ?? 0, guests: last ?? 0 },
    };
  });
  nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    cluster: f.cluster,
    observedAt: f.observedAt === undefined ? now : toMs(f.observedAt),
    heartbeatIntervalMs: f.heartbeatIntervalSeconds * 1000,
    missedHeartbeats: f.missedHeartbeats,
    nodes,
  };
}

export async function loadViewFile(path: string, now: number): Promise<ClusterView> {
  return viewFromData(parseYamlText(await readTextFile(path), path), now);
}
