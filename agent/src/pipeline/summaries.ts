/** GuestSummary values from the node: `pvesh get /nodes/<node>/{lxc,qemu}` (one call per kind). */
import type { agentv1} from '@phoenix/shared';
import { NotFoundError, commonv1 } from '@phoenix/shared';
import { sig, type PipelineContext } from './context.js';
import type { GuestKindDriver } from './guest-kind.js';
import { readConfig, recordOf } from './guest-state.js';
import { KINDS } from './kinds.js';

interface PveGuestJson {
  vmid: number | string;
  name?: string;
  status?: string;
  template?: number | string;
  lock?: string;
  cpus?: number;
  maxmem?: number;
  mem?: number;
  maxdisk?: number;
  uptime?: number;
  tags?: string;
}

function status(s: string | undefined): commonv1.GuestStatus {
  switch (s) {
    case 'running':
      return commonv1.GuestStatus.RUNNING;
    case 'stopped':
      return commonv1.GuestStatus.STOPPED;
    case 'paused':
    case 'suspended':
      return commonv1.GuestStatus.PAUSED;
    default:
      return commonv1.GuestStatus.UNKNOWN;
  }
}

function toSummary(kind: GuestKindDriver, g: PveGuestJson): commonv1.GuestSummary {
  return {
    vmid: Number(g.vmid),
    type: kind.type,
    name: g.name ?? '',
    status: status(g.status),
    template: Number(g.template ?? 0) === 1,
    lock: g.lock ?? '',
    cpus: Math.round(g.cpus ?? 0),
    maxMemoryBytes: g.maxmem ?? 0,
    memoryBytes: g.mem ?? 0,
    maxDiskBytes: g.maxdisk ?? 0,
    uptimeSeconds: g.uptime ?? 0,
    snapshots: [],
    tags: (g.tags ?? '').split(/[;, ]+/).filter(Boolean),
  };
}

async function list(c: PipelineContext, kind: GuestKindDriver, o?: { signal?: AbortSignal }): Promise<commonv1.GuestSummary[]> {
  const path = `/nodes/${c.node}/${kind.apiPath}`;
  const rows = (await c.d.pvesh.get<PveGuestJson[]>(path, {}, sig(o))) ?? [];
  return rows.map((r) => toSummary(kind, r));
}

/** Every guest on the node, sorted by VMID (snapshots are left empty; getGuest fills them). */
export async function listGuests(c: PipelineContext, o?: { signal?: AbortSignal }): Promise<commonv1.GuestSummary[]> {
  const lists = await Promise.all(KINDS.map((k) => list(c, k, o)));
  return lists.flat().sort((a, b) => a.vmid - b.vmid);
}

export async function summaryOf(c: PipelineContext, kind: GuestKindDriver, vmid: number, o?: { signal?: AbortSignal }): Promise<commonv1.GuestSummary> {
  const found = (await list(c, kind, o)).find((g) => g.vmid === vmid);
  if (!found) throw new NotFoundError(`${kind.word} ${vmid} does not exist on ${c.node}`);
  const snaps = await kind.tool(c.d).listSnapshots(vmid, sig(o));
  found.snapshots = snaps.map((s) => s.name);
  return found;
}

/** An empty summary for results of dry runs and removals. */
export function absentSummary(kind: GuestKindDriver, vmid: number): commonv1.GuestSummary {
  return { ...toSummary(kind, { vmid }), status: commonv1.GuestStatus.UNSPECIFIED };
}

export async function getGuest(c: PipelineContext, vmid: number, o?: { signal?: AbortSignal }): Promise<agentv1.GetGuestResponse> {
  for (const kind of KINDS) {
    const cfg = await readConfig(c, kind, vmid, o);
    if (!cfg) continue;
    const config: Record<string, string> = { ...cfg.values };
    cfg.lxc.forEach((l, i) => {
      config[`${l.key}#${i}`] = l.value;
    });
    const installed = [...recordOf(cfg).keys()].filter((k) => k !== 'app' && k !== 'health');
    return { summary: await summaryOf(c, kind, vmid, o), config, installedFeatures: installed };
  }
  throw new NotFoundError(`guest ${vmid} does not exist on ${c.node}`);
}
