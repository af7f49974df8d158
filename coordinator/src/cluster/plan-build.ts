/**
 * Desired state minus observed state → a plan. Placement comes from the pure scheduler; VMIDs,
 * addresses and MACs from the allocator (or a read-only preview for `phoenix plan`); each guest's
 * steps and dependencies (template parents, clone sources, declared dependencies) from the spec.
 * A template guest that a clone needs on another node is rebuilt there as a per-node replica,
 * since local storage cannot be cloned across nodes.
 */
import type { agentv1 } from '@phoenix/shared';
import type { Allocator } from '../alloc/index.js';
import { schedule, schedulerInput, policyFromSpec, type Placement, type Unplaced } from '../scheduler/index.js';
import type { CompiledGuest, CompiledSpec } from '../spec/compile.js';
import { inSubnet, parseCidr } from '../spec/ip.js';
import type { ClusterView } from '../view/types.js';
import { toAgentSpec } from '../reconcile/agent-spec.js';
import { estimateSchedule } from '../reconcile/estimate.js';
import { topologicalOrder } from '../reconcile/dag.js';
import type { ConcurrencyLimits, Plan, PlannedGuest, PlanStep } from '../reconcile/types.js';

/** Estimated seconds of each step on a real node (time the emulator scales down). */
export const STEP_SECONDS = {
  create: 20,
  clone: 30,
  configure: 1,
  start: 3,
  feature: 45,
  application: 20,
  health: 3,
  template: 5,
} as const;

export interface BuildPlanOptions {
  limits: ConcurrencyLimits;
  /** Allocates for real (apply); without it VMIDs/addresses are previewed and nothing is written. */
  allocator?: Allocator;
  /** Storage holding OS templates and cloud images on every node. */
  templateStorage?: string;
  /** Parameters the coordinator adds for features (e.g. the cluster CA for trusted_ca). */
  featureParams?: Record<string, Record<string, string>>;
  /** Application scripts that came with the spec (name → content). */
  scripts?: Record<string, string>;
}

export interface BuiltPlan extends Plan {
  placements: readonly Placement[];
  unplaced: readonly Unplaced[];
}

interface Bound {
  guest: CompiledGuest;
  id: string;
  node: string;
  vmid: number;
  exists: boolean;
  storage: string;
  gpus: readonly number[];
  parentId: string | undefined;
}

function stepsFor(g: CompiledGuest, exists: boolean, cloned: boolean, inherited: ReadonlySet<string>): PlanStep[] {
  if (exists) return [{ name: 'converge', reason: 'exists: configuration, state and features are checked and corrected', estSeconds: STEP_SECONDS.configure }];
  const steps: PlanStep[] = [
    cloned
      ? { name: 'ensure_exists', reason: `clone from ${g.template?.guest ?? 'template'}`, estSeconds: STEP_SECONDS.clone }
      : { name: 'ensure_exists', reason: `create from ${g.template?.file ?? 'template'}`, estSeconds: STEP_SECONDS.create },
    { name: 'configure', reason: 'apply cores, memory, network, mounts, passthrough', estSeconds: STEP_SECONDS.configure },
    { name: 'start', reason: 'guest is new', estSeconds: STEP_SECONDS.start },
  ];
  for (const { name: f } of g.features) {
    if (!inherited.has(f)) steps.push({ name: `feature:${f}`, reason: 'not installed', estSeconds: STEP_SECONDS.feature });
  }
  if (g.applicationScript) steps.push({ name: 'application', reason: 'new guest', estSeconds: STEP_SECONDS.application });
  if (g.snapshotAsTemplate) steps.push({ name: 'template', reason: `snapshot '${g.snapshotAsTemplate}' for clones`, estSeconds: STEP_SECONDS.template });
  return steps;
}

function networkOf(spec: CompiledSpec, ip: string | undefined): string | undefined {
  if (!ip || ip === 'dhcp') return undefined;
  const addr = ip.split('/')[0]!;
  for (const [name, n] of spec.networks) {
    const net = parseCidr(n.cidr);
    if (net && inSubnet(addr, net)) return name;
  }
  return undefined;
}

export async function buildPlan(spec: CompiledSpec, view: ClusterView, options: BuildPlanOptions): Promise<BuiltPlan> {
  const input = schedulerInput(spec, view);
  const result = schedule(input.view, input.pending, policyFromSpec(spec.scheduling));
  const placed = new Map(result.placements.map((p) => [p.guest, p]));
  const existing = new Map(input.existing.map((e) => [e.guest, e]));
  const byName = new Map(spec.guests.map((g) => [g.name, g]));
  const observedVmids = view.nodes.flatMap((n) => n.guests.map((x) => x.vmid));
  const defaultStorage = (node: string): string =>
    view.nodes.find((n) => n.name === node)?.storages.find((s) => s.content.includes('rootdir'))?.id ?? 'local-zfs';

  // Placement of every guest the spec names.
  const bound = new Map<string, Bound>();
  let preview = 0;
  for (const name of spec.buildOrder) {
    const g = byName.get(name)!;
    const ex = existing.get(name);
    const p = placed.get(name);
    if (!ex && !p) continue; // unplaced: reported, and its dependents are left out below
    const node = ex?.node ?? p!.node;
    bound.set(name, {
      guest: g,
      id: name,
      node,
      vmid: ex?.vmid ?? g.vmid ?? 0,
      exists: ex !== undefined,
      storage: p?.storages[0] ?? g.storage ?? defaultStorage(node),
      gpus: p?.gpus ?? g.gpu?.devices ?? [],
      parentId: undefined,
    });
  }

  // Template parents on the child's node: the template guest itself, or a per-node replica of it.
  const ensureOn = (templateGuest: string, node: string): string | undefined => {
    const t = bound.get(templateGuest);
    if (!t) return undefined;
    if (t.node === node) return t.id;
    const id = `${templateGuest}@${node}`;
    if (!bound.has(id)) {
      const parent = t.guest.template?.kind === 'guest' && t.guest.template.guest ? ensureOn(t.guest.template.guest, node) : undefined;
      bound.set(id, { ...t, id, node, vmid: 0, exists: false, storage: defaultStorage(node), gpus: t.gpus, parentId: parent });
    }
    return id;
  };
  for (const b of [...bound.values()]) {
    const tg = b.guest.template?.kind === 'guest' ? b.guest.template.guest : undefined;
    if (tg) b.parentId = ensureOn(tg, b.node);
  }
  // Replicas found already on their node (from an earlier apply) keep their VMID.
  for (const b of bound.values()) {
    if (!b.id.includes('@') || b.exists) continue;
    const original = bound.get(b.guest.name)?.vmid;
    const found = view.nodes.find((n) => n.name === b.node)?.guests.find((x) => x.name === b.guest.name && x.vmid !== original);
    if (found) Object.assign(b, { vmid: found.vmid, exists: true });
  }

  // A guest whose declared dependency cannot be placed waits too: it is reported, not planned.
  const unplaced: Unplaced[] = [...result.unplaced];
  for (let changed = true; changed; ) {
    changed = false;
    for (const b of [...bound.values()]) {
      const missing = b.guest.dependencies.find((d) => !bound.has(d));
      if (missing === undefined || b.exists) continue;
      bound.delete(b.id);
      unplaced.push({ guest: b.id, reason: `depends on ${missing}, which cannot be placed`, rejected: {} });
      changed = true;
    }
  }

  // VMIDs, addresses, MACs.
  const guests: PlannedGuest[] = [];
  for (const b of bound.values()) {
    const g = b.guest;
    const replica = b.id.includes('@');
    const nic = g.network;
    const staticIp = nic.ip && nic.ip !== 'dhcp' ? nic.ip : undefined;
    const network = nic.network ?? networkOf(spec, staticIp);
    let vmid = replica ? 0 : b.vmid;
    let ip = replica ? 'dhcp' : (nic.ip ?? undefined);
    let mac = replica ? undefined : nic.mac;
    let gateway = nic.gateway;
    if (options.allocator) {
      // A static address outside every declared network is honoured as written (no pool to check it against).
      const addressing = replica || (!network && !nic.pool) ? { ip: 'dhcp' } : staticIp ? { ip: staticIp } : nic.pool ? { pool: nic.pool } : {};
      const nics = [{ id: 'net0', ...(network && !replica ? { network } : {}), ...addressing, ...(mac ? { mac } : {}) }];
      const a = await options.allocator.allocate({ guestId: b.id, ...(vmid ? { vmid } : {}), nics }, { observedVmids });
      vmid = a.vmid;
      const n = a.nics[0];
      if (n) {
        mac = n.mac;
        if (n.address) ip = `${n.address}/${n.prefix ?? 24}`;
        else if (replica) ip = 'dhcp';
        gateway = n.gateway ?? gateway;
      }
    } else if (!vmid) {
      vmid = 0 - ++preview; // shown as "(allocated)" until apply
    }
    b.vmid = vmid;
    const parent = b.parentId ? bound.get(b.parentId) : undefined;
    const parentSnapshot = g.template?.kind === 'guest' ? (g.template.snapshot ?? parent?.guest.snapshotAsTemplate) : undefined;
    // A clone starts with its template's disk; asking for less would be a shrink, which Proxmox refuses.
    const guest = parent && parent.guest.diskGiB > g.diskGiB ? { ...g, diskGiB: parent.guest.diskGiB } : g;
    const agentSpec: agentv1.GuestSpec | undefined =
      vmid > 0
        ? toAgentSpec(guest, {
            vmid,
            node: b.node,
            storage: b.storage,
            gpus: b.gpus,
            ip,
            gateway,
            mac,
            sourceVmid: parent?.vmid,
            sourceSnapshot: parentSnapshot,
            templateStorage: options.templateStorage ?? 'local',
            featureParams: options.featureParams ?? {},
            scripts: options.scripts ?? {},
          })
        : undefined;
    const deps = new Set<string>();
    if (b.parentId) deps.add(b.parentId);
    for (const d of g.dependencies) if (bound.has(d)) deps.add(d);
    guests.push({
      id: b.id,
      vmid,
      node: b.node,
      action: b.exists ? 'none' : 'create',
      steps: stepsFor(g, b.exists, b.parentId !== undefined, new Set(g.ancestors.flatMap((a) => (byName.get(a)?.features ?? []).map((f) => f.name)))),
      dependsOn: [...deps],
      ...(b.parentId && !b.exists ? { cloneSource: b.parentId } : {}),
      ...(agentSpec ? { spec: agentSpec } : {}),
    });
  }
  // Parents' VMIDs were allocated after some children were bound: fill clone sources now.
  for (const pg of guests) {
    const src = pg.cloneSource ?? bound.get(pg.id)?.parentId;
    const s = pg.spec?.source?.kind;
    if (src && s?.$case === 'clone') s.value.sourceVmid = bound.get(src)!.vmid;
  }
  const order = topologicalOrder(guests);
  const sorted = order.map((id) => guests.find((x) => x.id === id)!);
  return { guests: sorted, order, estimate: estimateSchedule(sorted, options.limits), placements: result.placements, unplaced };
}
