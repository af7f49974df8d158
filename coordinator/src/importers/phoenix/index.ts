/**
 * `phoenix import phoenix <config-dir>`: Phoenix Hypervisor configs of every era → one cluster
 * spec. Lenient: what cannot be carried over becomes a warning, never a failure; the result is
 * always a spec that validates (it is compiled before it is returned).
 */
import type { SpecInput } from '../../spec/spec.js';
import { BUILTIN_FEATURES } from '../../spec/features.js';
import { prune, validatedOutput } from '../output.js';
import { isObject, str } from '../util.js';
import { Warnings, type ImportWarning } from '../warnings.js';
import { detectEra, ERA_NAMES, refName, reportUnknown, type Era, type ImportContext } from './common.js';
import { importContainers, type ContainerImport, type ContainerInput } from './containers.js';
import { readPhoenixFiles } from './files.js';
import { importHost } from './host.js';
import { importStacks } from './stacks.js';
import { importVms, vmDefaults, type VmImport, type VmInput } from './vms.js';

export interface PhoenixImportOptions {
  /** Node name for the one Phoenix host (default: network.hostname, else "phoenix"). */
  readonly node?: string | undefined;
  /** Cluster name (default "phoenix"). */
  readonly cluster?: string | undefined;
}

export interface ImportResult {
  readonly spec: SpecInput;
  readonly warnings: readonly ImportWarning[];
  /** One line for the header of the written file. */
  readonly summary: string;
}

export interface PhoenixImportResult extends ImportResult {
  readonly era: Era;
}

const FH = 'phoenix_hypervisor_config.json';
const FV = 'phoenix_vm_configs.json';

export async function importPhoenix(dir: string, options: PhoenixImportOptions = {}): Promise<PhoenixImportResult> {
  const w = new Warnings();
  const files = await readPhoenixFiles(dir, w);
  const era = detectEra(files);
  const ctx: ImportContext = { w, era, files, templates: new Map(), names: new Map(), hostDriverVersion: undefined };
  if (files.legacyShell) w.add('phoenix_hypervisor_config.sh', 'a shell file (E0): not read; its settings map to dead keys of later eras');
  if (files.certificates) w.add('certificate-manifest.json', 'not imported: certificates are managed by the certs command');
  if (files.portainer) w.add('portainer/config.json', 'not imported: Portainer endpoints follow from the VMs');

  const host = importHost(files.hypervisor, ctx, options.node);
  const containers = importContainers(files.lxc, host, ctx);

  // VMs: inline in the hypervisor file (E1) and/or the separate file (E2+)
  const h = files.hypervisor;
  let vms: VmImport[] = [];
  let defaults = {};
  if (h && Array.isArray(h['vms'])) {
    const d = isObject(h['vm_defaults']) ? h['vm_defaults'] : undefined;
    defaults = vmDefaults(d, `${FH}:vm_defaults`, ctx, true);
    vms = importVms(h['vms'], FH, defaults, str(d?.['template']), host.ubuntuRelease, ctx);
  }
  if (files.vm) {
    reportUnknown(files.vm, new Set(['vm_defaults', 'vms', '$schema']), FV, w);
    if (vms.length > 0) w.add(FV, 'VMs are also defined inline in the hypervisor file; both sets are imported');
    defaults = { ...defaults, ...vmDefaults(files.vm['vm_defaults'], `${FV}:vm_defaults`, ctx, false) };
    vms = [...vms, ...importVms(files.vm['vms'], FV, defaults, undefined, host.ubuntuRelease, ctx)];
  }

  resolveNames(containers, vms, ctx);
  resolveTemplates(containers, vms, ctx);
  resolveDependencies(containers, vms, ctx);
  applySharedVolumes(containers, host.sharedVolumes, ctx);
  dedupeResources(containers, vms, ctx);
  const stacks = importStacks(ctx);
  const stackNames = new Set(stacks.map((s) => s.name));
  for (const vm of vms) {
    const used = vm.spec.dockerStacks ?? [];
    const kept = used.filter((s) => stackNames.has(s.name));
    for (const s of used) if (!stackNames.has(s.name)) w.add(`${FV}:${vm.spec.name}.docker_stacks`, `stack ${s.name} is not defined anywhere; dropped`);
    if (kept.length !== used.length) vm.spec.dockerStacks = kept;
  }
  const library = featureLibrary(containers, vms, ctx);

  const node = host.nodeName;
  const cluster = options.cluster ?? 'phoenix';
  const raw: SpecInput = {
    version: 1,
    cluster: { name: cluster, ...(host.domain ? { domain: host.domain } : {}) },
    nodes: [
      {
        name: node,
        ...(host.nodeAddress ? { address: host.nodeAddress } : {}),
        ...(Object.keys(prune(host.profile)).length > 0 ? { hostProfile: node } : {}),
      },
    ],
    hostProfiles: { [node]: host.profile },
    defaults: { vm: defaults },
    features: library,
    templates: [...ctx.templates.values()],
    containers: containers.map((c) => ordered(c.spec, GUEST_KEY_ORDER)),
    vms: vms.map((v) => ordered(v.spec, GUEST_KEY_ORDER)),
    stacks,
  };
  const spec = validatedOutput(raw);
  const summary = `Imported from Phoenix Hypervisor configs (${ERA_NAMES[era]}): ${containers.length} containers, ${vms.length} VMs, ${stacks.length} stacks`;
  return { spec, warnings: w.list, era, summary };
}

/** Keys of a guest in the order a reader expects them; the rest follow in their own order. */
const GUEST_KEY_ORDER = [
  'name',
  'vmid',
  'description',
  'template',
  'convertToTemplate',
  'snapshotAsTemplate',
  'cores',
  'sockets',
  'memoryMiB',
  'swapMiB',
  'diskGiB',
  'storage',
  'unprivileged',
  'network',
  'gpu',
  'features',
  'dependencies',
];

function ordered<T extends object>(obj: T, order: readonly string[]): T {
  const out: Record<string, unknown> = {};
  const src = obj as Record<string, unknown>;
  for (const k of order) if (k in src) out[k] = src[k];
  for (const [k, v] of Object.entries(src)) if (!(k in out)) out[k] = v;
  return out as T;
}

function resolveNames(containers: ContainerImport[], vms: VmImport[], ctx: ImportContext): void {
  const used = new Set<string>();
  const claim = (name: string, id: string | undefined, kind: string): string => {
    let n = name;
    if (used.has(n)) {
      n = `${name}-${id ?? used.size}`;
      ctx.w.add(`${kind} ${name}`, `name already taken by another guest; renamed to ${n}`);
    }
    used.add(n);
    return n;
  };
  for (const c of containers) {
    c.spec.name = claim(c.spec.name, c.id, 'container');
    ctx.names.set(c.id, c.spec.name);
  }
  for (const v of vms) {
    v.spec.name = claim(v.spec.name, v.id, 'VM');
    if (v.id !== undefined) {
      if (ctx.names.has(v.id)) ctx.w.add(`VM ${v.spec.name}`, `id ${v.id} is also a container id; dependencies on ${v.id} mean the container`);
      else ctx.names.set(v.id, v.spec.name);
    }
  }
}

function templateNameFor(guest: string, ctx: ImportContext): string {
  const base = refName(guest);
  const existing = ctx.templates.get(base);
  if (!existing || (existing.kind === 'guest' && existing.guest === guest)) return base;
  return refName(`${base}-template`);
}

function resolveTemplates(containers: ContainerImport[], vms: VmImport[], ctx: ImportContext): void {
  const { w } = ctx;
  const ctById = new Map(containers.map((c) => [c.id, c]));
  for (const c of containers) {
    if (c.cloneFrom === undefined) continue;
    const parent = ctById.get(c.cloneFrom);
    if (!parent) {
      w.add(`container ${c.spec.name}`, `clone_from_ctid ${c.cloneFrom} is not a container of the config; not cloned`);
      continue;
    }
    if (parent === c) {
      w.add(`container ${c.spec.name}`, 'clones itself; not cloned');
      continue;
    }
    if (parent.spec.snapshotAsTemplate === undefined) {
      parent.spec.snapshotAsTemplate = 'template';
      w.add(`container ${parent.spec.name}`, 'is cloned from but has no template_snapshot_name; its template snapshot is named "template"');
    }
    const name = templateNameFor(parent.spec.name, ctx);
    if (!ctx.templates.has(name)) ctx.templates.set(name, { kind: 'guest', name, guest: parent.spec.name });
    c.spec.template = name;
    const mine = c.spec.unprivileged ?? true;
    const theirs = parent.spec.unprivileged ?? true;
    if (mine !== theirs) {
      c.spec.unprivileged = theirs;
      w.add(`container ${c.spec.name}`, `a clone keeps the privilege mode of ${parent.spec.name} (unprivileged: ${theirs}); Phoenix failed here`);
    }
  }
  for (const c of containers) {
    if (c.spec.template === undefined) {
      const name = 'missing-os-template';
      if (!ctx.templates.has(name)) {
        ctx.templates.set(name, { kind: 'os-template', name, file: 'REPLACE-ME.tar.zst' });
      }
      c.spec.template = name;
      w.add(`container ${c.spec.name}`, `no template and no clone source; set template (placeholder ${name} used)`);
    }
  }
  const vmById = new Map(vms.filter((v) => v.id !== undefined).map((v) => [v.id as string, v]));
  for (const v of vms) {
    if (v.cloneFrom === undefined) continue;
    const parent = vmById.get(v.cloneFrom);
    if (!parent || parent === v) {
      w.add(`VM ${v.spec.name}`, `clone_from_vmid ${v.cloneFrom} is not another VM of the config; not cloned`);
      continue;
    }
    if (!parent.isTemplate) {
      parent.spec.convertToTemplate = true;
      w.add(`VM ${parent.spec.name}`, 'is cloned from but not is_template (Phoenix refused to clone it); made a template');
    }
    const name = templateNameFor(parent.spec.name, ctx);
    if (!ctx.templates.has(name)) ctx.templates.set(name, { kind: 'guest', name, guest: parent.spec.name });
    v.spec.template = name;
  }
}

function resolveDependencies(containers: ContainerImport[], vms: VmImport[], ctx: ImportContext): void {
  const all: { spec: ContainerInput | VmInput; dependsOn: readonly string[] }[] = [...containers, ...vms];
  for (const g of all) {
    const names: string[] = [];
    for (const id of g.dependsOn) {
      const name = ctx.names.get(id);
      if (name === undefined) ctx.w.add(`${g.spec.name}.dependencies`, `${id} is neither a container nor a VM of the config; dropped`);
      else if (name === g.spec.name) ctx.w.add(`${g.spec.name}.dependencies`, 'depends on itself; dropped');
      else if (!names.includes(name)) names.push(name);
    }
    if (names.length > 0) g.spec.dependencies = names;
  }
}

function applySharedVolumes(
  containers: ContainerImport[],
  volumes: readonly { name: string; hostPath: string; mounts: Record<string, string> }[],
  ctx: ImportContext,
): void {
  const byId = new Map(containers.map((c) => [c.id, c]));
  if (ctx.era !== 'E1') {
    // Only E1 mounted them; later data still carries them with ids of other containers.
    for (const vol of volumes) {
      ctx.w.add(`${FH}:shared_volumes.${vol.name}`, 'not mounted: only E1 applied shared volumes and their ids are stale since; add bind mounts where wanted');
    }
    return;
  }
  for (const vol of volumes) {
    for (const [id, path] of Object.entries(vol.mounts)) {
      const src = `${FH}:shared_volumes.${vol.name}.mounts.${id}`;
      const ct = byId.get(id);
      if (!ct) {
        ctx.w.add(src, 'no such container; not mounted');
        continue;
      }
      if (!path.startsWith('/')) continue;
      const mounts = ct.spec.mounts ?? [];
      if (mounts.some((m) => m.path === path)) {
        ctx.w.add(src, `container already mounts something at ${path}; shared volume not mounted`);
        continue;
      }
      mounts.push({ type: 'bind', hostPath: vol.hostPath, path });
      ct.spec.mounts = mounts;
    }
  }
}

function dedupeResources(containers: ContainerImport[], vms: VmImport[], ctx: ImportContext): void {
  const vmids = new Map<number, string>();
  const ips = new Map<string, string>();
  const macs = new Map<string, string>();
  const all: (ContainerInput | VmInput)[] = [...containers.map((c) => c.spec), ...vms.map((v) => v.spec)];
  for (const g of all) {
    if (g.vmid !== undefined) {
      const other = vmids.get(g.vmid);
      if (other !== undefined) {
        ctx.w.add(`${g.name}.vmid`, `${g.vmid} is also ${other}'s; left out, a VMID will be allocated`);
        delete g.vmid;
      } else vmids.set(g.vmid, g.name);
    }
    const ip = g.network?.ip;
    if (ip !== undefined && ip !== 'dhcp') {
      const addr = ip.split('/')[0] as string;
      const other = ips.get(addr);
      if (other !== undefined && g.network) {
        ctx.w.add(`${g.name}.network.ip`, `${ip} is also ${other}'s address; left out (DHCP) — give one of them another address`);
        delete g.network.ip;
        delete g.network.gateway;
      } else ips.set(addr, g.name);
    }
    const mac = g.network?.mac?.toLowerCase();
    if (mac !== undefined) {
      const other = macs.get(mac);
      if (other !== undefined && g.network) {
        ctx.w.add(`${g.name}.network.mac`, `${g.network.mac} is also ${other}'s; left out, a MAC will be allocated`);
        delete g.network.mac;
      } else macs.set(mac, g.name);
    }
  }
}

/**
 * Features outside the built-in library get a library entry pointing at the Phoenix script name;
 * a missing requirement (vllm without nvidia in the template chain) is added in front.
 */
function featureLibrary(containers: ContainerImport[], vms: VmImport[], ctx: ImportContext): { name: string; script: string }[] {
  const builtin = new Map(BUILTIN_FEATURES.map((f) => [f.name, f]));
  const extra = new Map<string, { name: string; script: string }>();
  const guests: (ContainerInput | VmInput)[] = [...containers.map((c) => c.spec), ...vms.map((v) => v.spec)];
  const byName = new Map(guests.map((g) => [g.name, g]));
  const templateGuest = (g: ContainerInput | VmInput): ContainerInput | VmInput | undefined => {
    const t = g.template !== undefined ? ctx.templates.get(g.template) : undefined;
    return t?.kind === 'guest' ? byName.get(t.guest) : undefined;
  };
  for (const g of guests) {
    const list = (g.features ?? []).filter((f) => {
      if (/^[a-z][a-z0-9_-]{0,63}$/.test(f)) return true;
      ctx.w.add(`${g.name}.features`, `${JSON.stringify(f)} is not a feature name; dropped`);
      return false;
    });
    for (const f of list) {
      if (!builtin.has(f) && !extra.has(f)) {
        extra.set(f, { name: f, script: `bin/lxc_setup/phoenix_hypervisor_feature_install_${f}.sh` });
        ctx.w.add(`${g.name}.features`, `feature ${f} is not built in; added to the feature library with its Phoenix script`);
      }
    }
    const chain = new Set<string>();
    const seen = new Set<string>([g.name]);
    for (let p = templateGuest(g); p && !seen.has(p.name); p = templateGuest(p)) {
      seen.add(p.name);
      for (const f of p.features ?? []) chain.add(f);
    }
    const present = new Set([...list, ...chain]);
    const missing: string[] = [];
    for (const f of list) for (const r of builtin.get(f)?.requires ?? []) if (!present.has(r) && !missing.includes(r)) missing.push(r);
    for (const r of missing) ctx.w.add(`${g.name}.features`, `needs ${r} (not on the guest or its templates); added first`);
    if (list.length > 0 || missing.length > 0) g.features = [...missing, ...list];
  }
  return [...extra.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}
