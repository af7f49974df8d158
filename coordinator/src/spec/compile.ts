/**
 * input → defaults → compiled. compileSpec() resolves defaults, template chains and every cross
 * reference of a parsed spec and reports all problems at once (SpecError, exit 2); nothing that
 * follows ever sees a spec that failed here.
 */
import type { ContainerSpec, GpuRequest, Mount, VmSpec } from './guest.js';
import type { HostSetup } from './host.js';
import type { GuestNic, NetworkSpec } from './network.js';
import { withNodeAddresses } from './openshift-addresses.js';
import { AGENT_INSTALLER_MINIMUM, CONTROL_PLANE_REPLICAS, OPENSHIFT_NETWORK_TYPE, type OpenShiftClusterSpec } from './openshift.js';
import type { SchedulingSpec } from './scheduling.js';
import type { Spec } from './spec.js';
import type { StackSpec } from './stacks.js';
import type { FeatureDef, TemplateSpec } from './templates.js';
import { BUILTIN_FEATURES } from './features.js';
import { SpecError, type SpecIssue } from './errors.js';
import { addressOf, inSubnet, parseCidr, parseRange } from './ip.js';

export type GuestKind = 'container' | 'vm';

export interface CompiledNic {
  readonly network: string | undefined;
  readonly name: string;
  readonly bridge: string;
  /** Static CIDR, 'dhcp', or undefined when `pool` allocates it. */
  readonly ip: string | undefined;
  readonly pool: string | undefined;
  readonly gateway: string | undefined;
  readonly mac: string | undefined;
  readonly vlan: number | undefined;
  readonly nameservers: readonly string[];
  readonly firewall: boolean;
}

export interface CompiledGpu {
  readonly count: number;
  readonly model: string | undefined;
  readonly minFreeMemoryMiB: number | undefined;
  readonly maxUtilizationPct: number | undefined;
  readonly devices: readonly number[] | undefined;
  readonly passthrough: 'device' | 'pci';
  readonly driverVersion: string | undefined;
}

export interface CompiledPlacement {
  readonly node: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly antiAffinity: readonly string[];
}

/** A feature to install, with the parameters the spec gives it (`appConfig.<feature>`). */
export interface CompiledFeature {
  readonly name: string;
  readonly params: Readonly<Record<string, string>>;
}

export interface CompiledStart {
  readonly onBoot: boolean;
  /** Startup order; undefined leaves the order to Proxmox. */
  readonly order: number | undefined;
  readonly upDelaySeconds: number;
  readonly downDelaySeconds: number;
}

export interface CompiledHealthCheck {
  readonly command: readonly string[];
  readonly retries: number;
  readonly intervalSeconds: number;
}

/** What every guest has, whatever its kind. */
interface CompiledGuestBase {
  readonly name: string;
  readonly vmid: number | undefined;
  /** Where it was declared, e.g. `containers.3` or `openshift.0.nodes.1`. */
  readonly path: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly cores: number;
  readonly memoryMiB: number;
  /** Swap of a container; 0 for a VM. */
  readonly swapMiB: number;
  readonly diskGiB: number;
  readonly storage: string | undefined;
  readonly template: CompiledTemplate | undefined;
  /** Template guests this guest descends from, nearest first. */
  readonly ancestors: readonly string[];
  readonly network: CompiledNic;
  readonly mounts: readonly Mount[];
  readonly gpu: CompiledGpu | undefined;
  readonly features: readonly CompiledFeature[];
  /** Script run inside the guest after the features: a library name or a file beside the spec. */
  readonly applicationScript: string | undefined;
  readonly appConfig: Readonly<Record<string, unknown>>;
  readonly healthCheck: CompiledHealthCheck | undefined;
  readonly start: CompiledStart;
  readonly dependencies: readonly string[];
  readonly placement: CompiledPlacement;
  readonly snapshotAsTemplate: string | undefined;
  readonly lifecycleSnapshots: { readonly beforeFeatures: string | undefined; readonly afterFeatures: string | undefined };
  /** Other guests clone from this one. */
  readonly isTemplateGuest: boolean;
  /** Application-layer settings, carried for the application steps. */
  readonly ports: readonly string[];
  readonly firewall: NonNullable<ContainerSpec['firewall']> | undefined;
  readonly dockerStacks: readonly { readonly name: string; readonly environment: string }[];
}

export interface CompiledLxc {
  readonly unprivileged: boolean;
  readonly pveFeatures: {
    readonly nesting: boolean;
    readonly keyctl: boolean;
    readonly fuse: boolean;
    readonly mknod: boolean;
    readonly mount: readonly string[];
  };
  readonly apparmor: { readonly profile: string; readonly allowNesting: boolean } | undefined;
  readonly idmap: NonNullable<ContainerSpec['idmap']>;
  /** Raw `lxc.*` lines, each kept whole. */
  readonly rawLines: readonly string[];
}

export interface CompiledVmSettings {
  readonly bios: 'seabios' | 'ovmf' | undefined;
  readonly machine: 'i440fx' | 'q35' | undefined;
  readonly cpuType: string | undefined;
  readonly cloudInit: { readonly user: string | undefined; readonly searchDomain: string | undefined };
  /** Turned into a Proxmox template at the end (qm template). */
  readonly convertToTemplate: boolean;
  /** The OpenShift cluster this VM is a node of. */
  readonly openshift: CompiledOpenShiftVm | undefined;
}

/** What an OpenShift node VM needs beyond a VM's settings: it boots its cluster's agent ISO. */
export interface CompiledOpenShiftVm {
  readonly cluster: string;
  readonly role: 'control-plane' | 'worker';
  /** `<isoStorage>:iso/phoenix-<cluster>-agent.x86_64.iso` (see openshiftIsoVolume). */
  readonly isoVolume: string;
  /** wwn of the root disk, named by the agent-config's rootDeviceHints. */
  readonly rootDeviceWwn: string | undefined;
  /** wwn of each extra disk, in the order of the guest's volume mounts. */
  readonly extraDiskWwns: readonly (string | undefined)[];
}

/** The volume id of a cluster's agent ISO on every node that hosts one of its VMs. */
export function openshiftIsoVolume(cluster: string, isoStorage: string | undefined): string {
  return `${isoStorage ?? 'local'}:iso/phoenix-${cluster}-agent.x86_64.iso`;
}

export interface CompiledContainer extends CompiledGuestBase {
  readonly kind: 'container';
  readonly lxc: CompiledLxc;
}

export interface CompiledVm extends CompiledGuestBase {
  readonly kind: 'vm';
  readonly vm: CompiledVmSettings;
}

/** A guest with every default applied and every reference resolved, by kind. */
export type CompiledGuest = CompiledContainer | CompiledVm;

export interface CompiledTemplate {
  readonly name: string;
  readonly kind: TemplateSpec['kind'];
  readonly file: string | undefined;
  readonly storage: string | undefined;
  readonly url: string | undefined;
  readonly guest: string | undefined;
  readonly snapshot: string | undefined;
  /** The template the template guest itself comes from. */
  readonly parent: string | undefined;
}

export interface CompiledOpenShift {
  readonly spec: OpenShiftClusterSpec;
  readonly rendezvousIp: string | undefined;
  readonly controlPlane: readonly string[];
  readonly workers: readonly string[];
}

export interface CompiledSpec {
  readonly version: number;
  readonly cluster: Spec['cluster'];
  readonly nodes: Spec['nodes'];
  readonly hostProfiles: Readonly<Record<string, HostSetup>>;
  readonly features: ReadonlyMap<string, FeatureDef>;
  readonly templates: ReadonlyMap<string, CompiledTemplate>;
  readonly networks: ReadonlyMap<string, NetworkSpec>;
  readonly guests: readonly CompiledGuest[];
  /** Guest names in an order where template guests and dependencies come first. */
  readonly buildOrder: readonly string[];
  readonly stacks: ReadonlyMap<string, StackSpec>;
  readonly openshift: readonly CompiledOpenShift[];
  readonly scheduling: SchedulingSpec;
}

const BUILTIN_SIZES = {
  container: { cores: 2, memoryMiB: 2048, swapMiB: 512, diskGiB: 16 },
  vm: { cores: 2, memoryMiB: 4096, swapMiB: 0, diskGiB: 32 },
} as const;
const DEFAULT_BRIDGE = 'vmbr0';

/** The openshift control-plane anti-affinity group of a cluster. */
export function controlPlaneGroup(cluster: string): string {
  return `openshift-${cluster}-control-plane`;
}

class Issues {
  readonly list: SpecIssue[] = [];
  add(path: string, value: unknown, reason: string): void {
    this.list.push({ path, value, reason });
  }
}

/** Resolves a parsed spec; throws SpecError listing every problem. */
export function compileSpec(spec: Spec): CompiledSpec {
  const issues = new Issues();

  const nodeNames = uniqueNames(spec.nodes, 'nodes', issues);
  spec.nodes.forEach((n, i) => {
    if (n.hostProfile !== undefined && !Object.hasOwn(spec.hostProfiles, n.hostProfile)) {
      issues.add(`nodes.${i}.hostProfile`, n.hostProfile, 'unknown host profile');
    }
  });
  for (const [name, profile] of Object.entries(spec.hostProfiles)) checkHostProfile(name, profile, issues);

  const features = compileFeatures(spec.features, issues);
  const networks = compileNetworks(spec.networks, issues);
  const pools = new Map<string, string>();
  for (const net of spec.networks) for (const p of net.pools) pools.set(p.name, net.name);
  const stacks = new Map<string, StackSpec>();
  spec.stacks.forEach((s, i) => {
    if (stacks.has(s.name)) issues.add(`stacks.${i}.name`, s.name, 'duplicate stack name');
    stacks.set(s.name, s);
  });

  // All guests first (names are needed to resolve templates), then everything that refers to them.
  const declared: Declared[] = [
    ...spec.containers.map((g, i): Declared => ({ kind: 'container', path: `containers.${i}`, spec: g })),
    ...spec.vms.map((g, i): Declared => ({ kind: 'vm', path: `vms.${i}`, spec: g })),
  ];
  const byName = new Map<string, Declared>();
  for (const d of declared) {
    if (byName.has(d.spec.name)) issues.add(`${d.path}.name`, d.spec.name, 'duplicate guest name');
    else byName.set(d.spec.name, d);
  }
  const templates = compileTemplates(spec.templates, byName, issues);

  const ctx: GuestContext = { spec, issues, nodeNames, networks, pools, templates, byName, features, stacks };
  const guests: CompiledGuest[] = declared.map((d) => compileGuest(d, ctx));
  const openshift = withNodeAddresses(spec.openshift, guests.map((g) => g.network.ip));
  const ocpNodes = openshiftDeclared(openshift, issues);
  for (const o of ocpNodes) {
    if (byName.has(o.node.name)) issues.add(`${o.path}.name`, o.node.name, 'duplicate guest name');
  }
  const ocpCompiled = compileOpenShift(openshift, ocpNodes, nodeNames, issues);
  guests.push(...ocpCompiled.guests);

  const guestByName = new Map(guests.map((g) => [g.name, g]));
  const ancestors = resolveAncestors(guests, guestByName);
  const finalGuests = guests.map((g) => ({ ...g, ancestors: ancestors.get(g.name) ?? [] }));
  checkFeatureRequirements(finalGuests, guestByName, features, issues);
  checkUniqueResources(finalGuests, openshift, issues);
  const buildOrder = topologicalOrder(finalGuests, issues);

  if (issues.list.length > 0) throw SpecError.fromIssues(issues.list);
  return {
    version: spec.version,
    cluster: spec.cluster,
    nodes: spec.nodes,
    hostProfiles: spec.hostProfiles,
    features,
    templates,
    networks,
    guests: finalGuests,
    buildOrder,
    stacks,
    openshift: ocpCompiled.clusters,
    scheduling: spec.scheduling,
  };
}

type Declared =
  | { readonly kind: 'container'; readonly path: string; readonly spec: ContainerSpec }
  | { readonly kind: 'vm'; readonly path: string; readonly spec: VmSpec };

interface GuestContext {
  readonly spec: Spec;
  readonly issues: Issues;
  readonly nodeNames: ReadonlySet<string>;
  readonly networks: ReadonlyMap<string, NetworkSpec>;
  readonly pools: ReadonlyMap<string, string>;
  readonly templates: ReadonlyMap<string, CompiledTemplate>;
  readonly byName: ReadonlyMap<string, Declared>;
  readonly features: ReadonlyMap<string, FeatureDef>;
  readonly stacks: ReadonlyMap<string, StackSpec>;
}

function uniqueNames(items: readonly { name: string }[], path: string, issues: Issues): Set<string> {
  const names = new Set<string>();
  items.forEach((item, i) => {
    if (names.has(item.name)) issues.add(`${path}.${i}.name`, item.name, 'duplicate name');
    names.add(item.name);
  });
  return names;
}

function checkHostProfile(name: string, profile: HostSetup, issues: Issues): void {
  const base = `hostProfiles.${name}`;
  const ids = new Set<string>();
  const pools = new Set((profile.zfs?.pools ?? []).map((p) => p.name));
  profile.zfs?.datasets.forEach((ds, i) => {
    const pool = ds.name.split('/')[0] ?? '';
    if (!ds.name.includes('/')) issues.add(`${base}.zfs.datasets.${i}.name`, ds.name, 'a dataset is pool/name');
    else if (pools.size > 0 && !pools.has(pool)) {
      issues.add(`${base}.zfs.datasets.${i}.name`, ds.name, `pool "${pool}" is not among zfs.pools`);
    }
    if (ds.storage) {
      if (ids.has(ds.storage.id)) issues.add(`${base}.zfs.datasets.${i}.storage.id`, ds.storage.id, 'duplicate storage id');
      ids.add(ds.storage.id);
    }
  });
  profile.storages.forEach((s, i) => {
    if (ids.has(s.id)) issues.add(`${base}.storages.${i}.id`, s.id, 'duplicate storage id');
    ids.add(s.id);
  });
  const shares = new Set<string>();
  profile.samba?.shares.forEach((s, i) => {
    if (shares.has(s.name)) issues.add(`${base}.samba.shares.${i}.name`, s.name, 'duplicate share name');
    shares.add(s.name);
  });
}

function compileFeatures(user: readonly FeatureDef[], issues: Issues): Map<string, FeatureDef> {
  const map = new Map<string, FeatureDef>(BUILTIN_FEATURES.map((f) => [f.name, f]));
  const seen = new Set<string>();
  user.forEach((f, i) => {
    if (seen.has(f.name)) issues.add(`features.${i}.name`, f.name, 'duplicate feature name');
    seen.add(f.name);
    map.set(f.name, f);
  });
  user.forEach((f, i) => {
    f.requires.forEach((r, j) => {
      if (!map.has(r)) issues.add(`features.${i}.requires.${j}`, r, 'unknown feature');
    });
  });
  return map;
}

function compileNetworks(list: readonly NetworkSpec[], issues: Issues): Map<string, NetworkSpec> {
  const map = new Map<string, NetworkSpec>();
  const poolNames = new Set<string>();
  list.forEach((net, i) => {
    const path = `networks.${i}`;
    if (map.has(net.name)) issues.add(`${path}.name`, net.name, 'duplicate network name');
    map.set(net.name, net);
    const subnet = parseCidr(net.cidr);
    if (net.gateway !== undefined && !inSubnet(net.gateway, subnet)) {
      issues.add(`${path}.gateway`, net.gateway, `not inside ${net.cidr}`);
    }
    net.pools.forEach((pool, j) => {
      if (poolNames.has(pool.name)) issues.add(`${path}.pools.${j}.name`, pool.name, 'duplicate pool name');
      poolNames.add(pool.name);
      const [a = '', b = ''] = pool.range.split('-');
      const { first, last } = parseRange(pool.range);
      if (!inSubnet(a, subnet) || !inSubnet(b, subnet)) {
        issues.add(`${path}.pools.${j}.range`, pool.range, `range must lie inside ${net.cidr}`);
      } else if (first > last) {
        issues.add(`${path}.pools.${j}.range`, pool.range, 'range start is after its end');
      }
    });
  });
  return map;
}

function compileTemplates(
  list: readonly TemplateSpec[],
  guests: ReadonlyMap<string, Declared>,
  issues: Issues,
): Map<string, CompiledTemplate> {
  const map = new Map<string, CompiledTemplate>();
  list.forEach((t, i) => {
    const path = `templates.${i}`;
    if (map.has(t.name)) issues.add(`${path}.name`, t.name, 'duplicate template name');
    if (t.kind !== 'guest') {
      map.set(t.name, {
        name: t.name,
        kind: t.kind,
        file: t.file,
        storage: t.storage,
        url: t.kind === 'cloud-image' ? t.url : undefined,
        guest: undefined,
        snapshot: undefined,
        parent: undefined,
      });
      return;
    }
    const source = guests.get(t.guest);
    let snapshot = t.snapshot;
    if (!source) {
      issues.add(`${path}.guest`, t.guest, 'unknown guest');
    } else {
      const own = source.spec.snapshotAsTemplate;
      const vmTemplate = source.kind === 'vm' && source.spec.convertToTemplate === true;
      if (vmTemplate) {
        // A Proxmox template is cloned whole, never from a snapshot.
        if (snapshot !== undefined) issues.add(`${path}.snapshot`, snapshot, `"${t.guest}" becomes a Proxmox template, which is cloned whole`);
      } else if (snapshot !== undefined && own !== undefined && own !== snapshot) {
        issues.add(`${path}.snapshot`, snapshot, `guest "${t.guest}" takes its template snapshot as "${own}"`);
      }
      if (!vmTemplate) snapshot ??= own;
      if (snapshot === undefined && !vmTemplate) {
        issues.add(
          `${path}.snapshot`,
          undefined,
          `clones need a snapshot: set snapshot here or snapshotAsTemplate on "${t.guest}"`,
        );
      }
    }
    map.set(t.name, {
      name: t.name,
      kind: 'guest',
      file: undefined,
      storage: undefined,
      url: undefined,
      guest: t.guest,
      snapshot,
      parent: source?.spec.template,
    });
  });
  return map;
}

function compileGuest(d: Declared, ctx: GuestContext): CompiledGuest {
  const { issues, spec } = ctx;
  const g = d.spec;
  const defaults = (d.kind === 'container' ? spec.defaults.container : spec.defaults.vm) ?? {};
  const builtin = BUILTIN_SIZES[d.kind];
  const ct = d.kind === 'container' ? d.spec : undefined;

  let template: CompiledTemplate | undefined;
  if (g.template !== undefined) {
    template = ctx.templates.get(g.template);
    if (!template) issues.add(`${d.path}.template`, g.template, 'unknown template');
    else checkTemplateKind(d, template, ctx);
  } else if (d.kind === 'container') {
    issues.add(`${d.path}.template`, undefined, 'a container needs a template (OS template file or template guest)');
  }

  const network = compileNic(g.network, `${d.path}.network`, d.kind, defaults, ctx);
  const gpu = compileGpu(g.gpu, d, issues);
  checkMounts(g.mounts ?? [], d, issues);

  const features = g.features ?? [];
  features.forEach((f, i) => {
    const def = ctx.features.get(f);
    if (!def) issues.add(`${d.path}.features.${i}`, f, 'unknown feature (not built in, not in features)');
    else if (!def.appliesTo.includes(d.kind)) issues.add(`${d.path}.features.${i}`, f, `feature does not apply to a ${d.kind}`);
  });
  if (new Set(features).size !== features.length) issues.add(`${d.path}.features`, features, 'a feature is listed twice');

  const dependencies = g.dependencies ?? [];
  dependencies.forEach((dep, i) => {
    if (dep === g.name) issues.add(`${d.path}.dependencies.${i}`, dep, 'a guest cannot depend on itself');
    else if (!ctx.byName.has(dep)) issues.add(`${d.path}.dependencies.${i}`, dep, 'unknown guest');
  });

  const placement = g.placement ?? {};
  if (placement.node !== undefined && !ctx.nodeNames.has(placement.node)) {
    issues.add(`${d.path}.placement.node`, placement.node, 'unknown node (not in nodes)');
  }
  g.dockerStacks?.forEach((use, i) => {
    const stack = ctx.stacks.get(use.name);
    if (!stack) issues.add(`${d.path}.dockerStacks.${i}.name`, use.name, 'unknown stack');
    else if (Object.keys(stack.environments).length > 0 && !Object.hasOwn(stack.environments, use.environment)) {
      issues.add(`${d.path}.dockerStacks.${i}.environment`, use.environment, `stack "${use.name}" has no such environment`);
    }
  });
  if (
    g.lifecycleSnapshots?.afterFeatures !== undefined &&
    g.lifecycleSnapshots.afterFeatures === g.snapshotAsTemplate
  ) {
    issues.add(
      `${d.path}.lifecycleSnapshots.afterFeatures`,
      g.lifecycleSnapshots.afterFeatures,
      'must differ from snapshotAsTemplate (re-taking it would replace the snapshot clones start from)',
    );
  }
  if (template?.kind === 'guest' && ct && template.guest !== undefined) {
    const parent = ctx.byName.get(template.guest);
    if (parent?.kind === 'container') {
      const mine = ct.unprivileged ?? defaults.unprivileged ?? true;
      const theirs = parent.spec.unprivileged ?? spec.defaults.container?.unprivileged ?? true;
      if (mine !== theirs) {
        issues.add(`${d.path}.unprivileged`, mine, `a clone keeps the mode of "${template.guest}" (unprivileged: ${theirs})`);
      }
    }
  }
  if (ct?.lxcRaw) {
    ct.lxcRaw.forEach((line, i) => {
      if (/^lxc\.idmap:/.test(line) && ct.idmap) {
        issues.add(`${d.path}.lxcRaw.${i}`, line, 'use idmap instead of raw lxc.idmap lines');
      }
    });
  }

  const isTemplateGuest = [...ctx.templates.values()].some((t) => t.kind === 'guest' && t.guest === g.name);
  const templateSnapshot = [...ctx.templates.values()].find((t) => t.guest === g.name)?.snapshot;

  const start = g.start;
  const base: Omit<CompiledGuestBase, 'cores' | 'swapMiB'> = {
    name: g.name,
    vmid: g.vmid,
    path: d.path,
    description: g.description ?? '',
    tags: g.tags ?? [],
    memoryMiB: g.memoryMiB ?? defaults.memoryMiB ?? builtin.memoryMiB,
    diskGiB: g.diskGiB ?? defaults.diskGiB ?? builtin.diskGiB,
    storage: g.storage ?? defaults.storage,
    template,
    ancestors: [],
    network,
    mounts: g.mounts ?? [],
    gpu,
    features: features.map((name) => ({ name, params: stringParams(g.appConfig?.[name]) })),
    applicationScript: g.applicationScript,
    appConfig: g.appConfig ?? {},
    healthCheck: g.healthCheck,
    start: {
      onBoot: start?.onBoot ?? false,
      order: start?.order,
      upDelaySeconds: start?.upDelaySeconds ?? 0,
      downDelaySeconds: start?.downDelaySeconds ?? 0,
    },
    dependencies,
    placement: {
      node: placement.node,
      labels: placement.labels ?? {},
      antiAffinity: placement.antiAffinity ?? [],
    },
    snapshotAsTemplate: g.snapshotAsTemplate ?? templateSnapshot,
    lifecycleSnapshots: {
      beforeFeatures: g.lifecycleSnapshots?.beforeFeatures,
      afterFeatures: g.lifecycleSnapshots?.afterFeatures,
    },
    isTemplateGuest,
    ports: g.ports ?? [],
    firewall: g.firewall,
    dockerStacks: g.dockerStacks ?? [],
  };
  const cores = g.cores ?? defaults.cores ?? builtin.cores;
  if (d.kind === 'container') {
    const c = d.spec;
    return {
      ...base,
      kind: 'container',
      cores,
      swapMiB: c.swapMiB ?? defaults.swapMiB ?? builtin.swapMiB,
      lxc: {
        unprivileged: c.unprivileged ?? defaults.unprivileged ?? true,
        pveFeatures: {
          nesting: c.pveFeatures?.nesting ?? false,
          keyctl: c.pveFeatures?.keyctl ?? false,
          fuse: c.pveFeatures?.fuse ?? false,
          mknod: c.pveFeatures?.mknod ?? false,
          mount: c.pveFeatures?.mount ?? [],
        },
        apparmor: c.apparmor,
        idmap: c.idmap ?? [],
        rawLines: c.lxcRaw ?? [],
      },
    };
  }
  const v = d.spec;
  return {
    ...base,
    kind: 'vm',
    cores,
    swapMiB: 0,
    vm: {
      bios: v.bios,
      machine: v.machine,
      cpuType: v.cpuType,
      cloudInit: { user: v.cloudInit?.user, searchDomain: v.cloudInit?.searchDomain },
      convertToTemplate: v.convertToTemplate ?? false,
      openshift: undefined,
    },
  };
}

/** Feature parameters from `appConfig.<feature>`: its string and number values. */
function stringParams(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
  return out;
}

function checkTemplateKind(d: Declared, t: CompiledTemplate, ctx: GuestContext): void {
  const path = `${d.path}.template`;
  if (t.kind === 'os-template' && d.kind !== 'container') {
    ctx.issues.add(path, t.name, 'an os-template makes containers; a VM needs a cloud-image or VM template');
  }
  if (t.kind === 'cloud-image' && d.kind !== 'vm') {
    ctx.issues.add(path, t.name, 'a cloud-image makes VMs; a container needs an os-template or container template');
  }
  if (t.kind === 'guest' && t.guest !== undefined) {
    if (t.guest === d.spec.name) ctx.issues.add(path, t.name, 'a guest cannot be its own template');
    const src = ctx.byName.get(t.guest);
    if (src && src.kind !== d.kind) {
      ctx.issues.add(path, t.name, `template guest "${t.guest}" is a ${src.kind}, this is a ${d.kind}`);
    }
  }
}

function compileNic(
  nic: GuestNic | undefined,
  path: string,
  kind: GuestKind,
  defaults: { network?: string | undefined; bridge?: string | undefined },
  ctx: GuestContext,
): CompiledNic {
  const { issues } = ctx;
  const n = nic ?? {};
  const netName = n.network ?? defaults.network;
  const net = netName !== undefined ? ctx.networks.get(netName) : undefined;
  if (netName !== undefined && !net) issues.add(`${path}.network`, netName, 'unknown network');
  if (n.ip !== undefined && n.pool !== undefined) issues.add(`${path}.pool`, n.pool, 'give either ip or pool, not both');
  if (n.pool !== undefined) {
    const owner = ctx.pools.get(n.pool);
    if (owner === undefined) issues.add(`${path}.pool`, n.pool, 'unknown IP pool');
    else if (net && owner !== net.name) issues.add(`${path}.pool`, n.pool, `pool belongs to network "${owner}", not "${net.name}"`);
  }
  if (net && n.ip !== undefined && n.ip !== 'dhcp') {
    const subnet = parseCidr(net.cidr);
    if (!inSubnet(addressOf(n.ip), subnet)) issues.add(`${path}.ip`, n.ip, `not inside network ${net.name} (${net.cidr})`);
    else if (n.ip.split('/')[1] !== net.cidr.split('/')[1]) {
      issues.add(`${path}.ip`, n.ip, `prefix differs from network ${net.name} (${net.cidr})`);
    }
  }
  const gateway = n.gateway ?? net?.gateway;
  if (n.gateway !== undefined && n.ip !== undefined && n.ip !== 'dhcp') {
    if (!inSubnet(n.gateway, parseCidr(n.ip))) issues.add(`${path}.gateway`, n.gateway, `not inside ${n.ip}`);
  }
  return {
    network: net?.name,
    name: n.name ?? (kind === 'container' ? 'eth0' : 'net0'),
    bridge: n.bridge ?? net?.bridge ?? defaults.bridge ?? DEFAULT_BRIDGE,
    ip: n.ip ?? (n.pool !== undefined ? undefined : 'dhcp'),
    pool: n.pool,
    gateway: n.ip === 'dhcp' ? undefined : gateway,
    mac: n.mac,
    vlan: n.vlan ?? net?.vlan,
    nameservers: n.nameservers ?? net?.nameservers ?? [],
    firewall: n.firewall ?? false,
  };
}

function compileGpu(gpu: GpuRequest | undefined, d: Declared, issues: Issues): CompiledGpu | undefined {
  if (!gpu) return undefined;
  const passthrough = gpu.passthrough ?? (d.kind === 'container' ? 'device' : 'pci');
  if (d.kind === 'container' && passthrough === 'pci') {
    issues.add(`${d.path}.gpu.passthrough`, passthrough, 'containers share GPUs as devices; pci passthrough is for VMs');
  }
  if (d.kind === 'vm' && passthrough === 'device') {
    issues.add(`${d.path}.gpu.passthrough`, passthrough, 'VMs take whole GPUs by pci passthrough');
  }
  if (gpu.devices && new Set(gpu.devices).size !== gpu.devices.length) {
    issues.add(`${d.path}.gpu.devices`, gpu.devices, 'a GPU index is listed twice');
  }
  return {
    count: gpu.count,
    model: gpu.model,
    minFreeMemoryMiB: gpu.minFreeMemoryMiB,
    maxUtilizationPct: gpu.maxUtilizationPct,
    devices: gpu.devices,
    passthrough,
    driverVersion: gpu.driverVersion,
  };
}

function checkMounts(mounts: readonly Mount[], d: Declared, issues: Issues): void {
  const paths = new Set<string>();
  mounts.forEach((m, i) => {
    const path = `${d.path}.mounts.${i}`;
    if (m.type === 'bind' && d.kind === 'vm') issues.add(`${path}.type`, m.type, 'bind mounts are for containers; use nfs in a VM');
    if (m.type === 'nfs' && d.kind === 'container') {
      issues.add(`${path}.type`, m.type, 'containers mount NFS through the host: use a bind mount of the host path');
    }
    if (m.type === 'volume' && d.kind === 'container' && m.path === undefined) {
      issues.add(`${path}.path`, undefined, 'a container volume needs a mount path');
    }
    if (m.path !== undefined) {
      if (paths.has(m.path)) issues.add(`${path}.path`, m.path, 'two mounts at the same path');
      paths.add(m.path);
    }
  });
}

interface OcpDeclared {
  readonly cluster: OpenShiftClusterSpec;
  readonly clusterIndex: number;
  readonly node: OpenShiftClusterSpec['nodes'][number];
  readonly path: string;
}

function openshiftDeclared(clusters: readonly OpenShiftClusterSpec[], issues: Issues): OcpDeclared[] {
  const out: OcpDeclared[] = [];
  const seen = new Set<string>();
  clusters.forEach((c, ci) => {
    if (seen.has(c.name)) issues.add(`openshift.${ci}.name`, c.name, 'duplicate OpenShift cluster name');
    seen.add(c.name);
    c.nodes.forEach((node, ni) => out.push({ cluster: c, clusterIndex: ci, node, path: `openshift.${ci}.nodes.${ni}` }));
  });
  const names = new Set<string>();
  for (const o of out) {
    if (names.has(o.node.name)) issues.add(`${o.path}.name`, o.node.name, 'node name used twice among OpenShift clusters');
    names.add(o.node.name);
  }
  return out;
}

function compileOpenShift(
  clusters: readonly OpenShiftClusterSpec[],
  declared: readonly OcpDeclared[],
  nodeNames: ReadonlySet<string>,
  issues: Issues,
): { clusters: CompiledOpenShift[]; guests: CompiledGuest[] } {
  const guests: CompiledGuest[] = [];
  const compiled: CompiledOpenShift[] = [];
  clusters.forEach((c, ci) => {
    const path = `openshift.${ci}`;
    const cp = c.nodes.filter((n) => n.role === 'control-plane');
    const workers = c.nodes.filter((n) => n.role === 'worker');
    checkTopology(c, path, cp.length, workers.length, issues);
    if (c.network.networkType !== OPENSHIFT_NETWORK_TYPE) {
      issues.add(`${path}.network.networkType`, c.network.networkType, `only ${OPENSHIFT_NETWORK_TYPE} is supported by the agent-based installer`);
    }
    checkNodeSizes(c, path, issues);
    if (workers.length > 0 && !c.roles.worker) issues.add(`${path}.roles.worker`, undefined, 'workers are listed but roles.worker is missing');
    const machine = parseCidr(c.network.machineCidr);
    if (!inSubnet(c.network.gateway, machine)) issues.add(`${path}.network.gateway`, c.network.gateway, `not inside ${c.network.machineCidr}`);
    if (c.topology !== 'sno') {
      for (const key of ['apiVip', 'ingressVip'] as const) {
        const vip = c[key];
        if (vip === undefined) issues.add(`${path}.${key}`, undefined, `required for a ${c.topology} cluster`);
        else if (!inSubnet(vip, machine)) issues.add(`${path}.${key}`, vip, `not inside ${c.network.machineCidr}`);
      }
      if (c.apiVip !== undefined && c.apiVip === c.ingressVip) issues.add(`${path}.ingressVip`, c.ingressVip, 'must differ from apiVip');
    }
    c.nodes.forEach((n, ni) => {
      if (n.ip === undefined) issues.add(`${path}.nodes.${ni}.ip`, undefined, `no free address left in ${c.network.machineCidr} to give it`);
      else if (!inSubnet(n.ip, machine)) issues.add(`${path}.nodes.${ni}.ip`, n.ip, `not inside ${c.network.machineCidr}`);
      if (n.placement?.node !== undefined && !nodeNames.has(n.placement.node)) {
        issues.add(`${path}.nodes.${ni}.placement.node`, n.placement.node, 'unknown node (not in nodes)');
      }
    });
    const pinned = new Map<string, string>();
    c.nodes.forEach((n, ni) => {
      const node = n.placement?.node;
      if (n.role !== 'control-plane' || node === undefined) return;
      const other = pinned.get(node);
      if (other !== undefined) {
        issues.add(`${path}.nodes.${ni}.placement.node`, node, `control-plane nodes must be on distinct nodes; ${other} is pinned there too`);
      } else pinned.set(node, n.name);
    });
    const rendezvousIp = c.rendezvousIp ?? cp[0]?.ip;
    if (c.rendezvousIp !== undefined && !c.nodes.some((n) => n.ip === c.rendezvousIp)) {
      issues.add(`${path}.rendezvousIp`, c.rendezvousIp, 'must be the IP of one of the nodes');
    }
    compiled.push({ spec: c, rendezvousIp, controlPlane: cp.map((n) => n.name), workers: workers.map((n) => n.name) });
  });

  for (const o of declared) {
    const c = o.cluster;
    const role = o.node.role === 'control-plane' ? c.roles.controlPlane : (c.roles.worker ?? c.roles.controlPlane);
    const prefix = c.network.machineCidr.split('/')[1] ?? '24';
    const extra = o.node.extraDisks ?? role.extraDisks;
    const mounts: Mount[] = extra.map((disk, i) => ({
      type: 'volume',
      name: `disk${i + 1}`,
      storage: disk.storage ?? o.node.storage ?? role.storage ?? 'local-lvm',
      sizeGiB: disk.sizeGiB,
    }));
    guests.push({
      kind: 'vm',
      name: o.node.name,
      vmid: o.node.vmid,
      path: o.path,
      description: '',
      tags: [],
      cores: (o.node.cores ?? role.cores) * (o.node.sockets ?? role.sockets),
      memoryMiB: o.node.memoryMiB ?? role.memoryMiB,
      swapMiB: 0,
      diskGiB: o.node.diskGiB ?? role.diskGiB,
      storage: o.node.storage ?? role.storage,
      template: undefined,
      ancestors: [],
      network: {
        network: undefined,
        name: c.network.interface,
        bridge: c.network.bridge,
        ip: o.node.ip !== undefined ? `${o.node.ip}/${prefix}` : undefined,
        pool: undefined,
        gateway: c.network.gateway,
        mac: o.node.mac,
        vlan: c.network.vlan,
        nameservers: c.network.nameservers,
        firewall: false,
      },
      mounts,
      gpu: undefined,
      features: [],
      applicationScript: undefined,
      appConfig: {},
      healthCheck: undefined,
      start: { onBoot: o.node.onBoot ?? true, order: undefined, upDelaySeconds: 0, downDelaySeconds: 0 },
      dependencies: [],
      placement: {
        node: o.node.placement?.node,
        labels: o.node.placement?.labels ?? {},
        antiAffinity: o.node.role === 'control-plane' ? [controlPlaneGroup(c.name)] : [],
      },
      snapshotAsTemplate: undefined,
      lifecycleSnapshots: { beforeFeatures: undefined, afterFeatures: undefined },
      isTemplateGuest: false,
      ports: [],
      firewall: undefined,
      dockerStacks: [],
      vm: {
        bios: undefined,
        machine: undefined,
        cpuType: undefined,
        cloudInit: { user: undefined, searchDomain: undefined },
        convertToTemplate: false,
        openshift: {
          cluster: c.name,
          role: o.node.role,
          isoVolume: openshiftIsoVolume(c.name, c.isoStorage),
          rootDeviceWwn: o.node.rootDeviceWwn,
          extraDiskWwns: extra.map((disk) => disk.wwn),
        },
      },
    });
  }
  return { clusters: compiled, guests };
}

/**
 * Topology as the agent-based installer checks it: ControlPlane.Replicas 5, 4, 3 or 1; one control
 * plane only with platform none and no compute; compact is three control planes and no compute;
 * HA is 3–5 control planes and at least two compute nodes.
 */
function checkTopology(c: OpenShiftClusterSpec, path: string, cps: number, workers: number, issues: Issues): void {
  if (!CONTROL_PLANE_REPLICAS.includes(cps)) {
    issues.add(`${path}.nodes`, `${cps} control-plane`, `the installer accepts 5, 4, 3 or 1 control-plane nodes (ControlPlane.Replicas), found ${cps}`);
  }
  const want = {
    sno: { ok: cps === 1 && workers === 0, text: '1 control-plane node and no workers (platform none)' },
    compact: { ok: cps === 3 && workers === 0, text: '3 control-plane nodes and no workers' },
    'multi-node': { ok: cps >= 3 && cps <= 5 && workers >= 2, text: '3 to 5 control-plane nodes and at least 2 workers' },
  }[c.topology];
  if (!want.ok) issues.add(`${path}.nodes`, `${cps} control-plane, ${workers} worker`, `topology ${c.topology} needs ${want.text}`);
}

/** Every node at least the agent-based installer's documented minimum for its role. */
function checkNodeSizes(c: OpenShiftClusterSpec, path: string, issues: Issues): void {
  const reported = new Set<string>();
  const report = (field: string, value: number, reason: string): void => {
    if (reported.has(field)) return;
    reported.add(field);
    issues.add(field, value, reason);
  };
  c.nodes.forEach((n, ni) => {
    const roleKey = n.role === 'control-plane' ? 'controlPlane' : 'worker';
    const role = c.roles[roleKey];
    if (role === undefined) return; // reported as a missing roles.worker
    const min = AGENT_INSTALLER_MINIMUM[n.role];
    const what = n.role === 'control-plane' ? (c.topology === 'sno' ? 'a single-node cluster' : 'a control-plane node') : 'a worker';
    const at = (field: 'cores' | 'sockets' | 'memoryMiB' | 'diskGiB'): string =>
      n[field] !== undefined ? `${path}.nodes.${ni}.${field}` : `${path}.roles.${roleKey}.${field}`;
    const cores = n.cores ?? role.cores;
    const sockets = n.sockets ?? role.sockets;
    if (cores * sockets < min.vcpus) {
      const field = n.cores === undefined && n.sockets !== undefined ? at('sockets') : at('cores');
      report(field, cores * sockets, `${cores * sockets} vCPUs is below the agent-based installer's minimum of ${min.vcpus} for ${what}`);
    }
    const memory = n.memoryMiB ?? role.memoryMiB;
    if (memory < min.memoryMiB) report(at('memoryMiB'), memory, `below the agent-based installer's minimum of ${min.memoryMiB} MiB for ${what}`);
    const disk = n.diskGiB ?? role.diskGiB;
    if (disk < min.diskGiB) report(at('diskGiB'), disk, `below the agent-based installer's minimum of ${min.diskGiB} GB for ${what}`);
  });
}

function resolveAncestors(
  guests: readonly CompiledGuest[],
  byName: ReadonlyMap<string, CompiledGuest>,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const g of guests) {
    const chain: string[] = [];
    let cur: CompiledGuest | undefined = g;
    while (cur?.template?.kind === 'guest' && cur.template.guest !== undefined) {
      const parent = cur.template.guest;
      if (parent === g.name || chain.includes(parent)) break; // cycle: reported by topologicalOrder
      chain.push(parent);
      cur = byName.get(parent);
    }
    out.set(g.name, chain);
  }
  return out;
}

function checkFeatureRequirements(
  guests: readonly CompiledGuest[],
  byName: ReadonlyMap<string, CompiledGuest>,
  features: ReadonlyMap<string, FeatureDef>,
  issues: Issues,
): void {
  for (const g of guests) {
    const present = new Set(g.features.map((f) => f.name));
    for (const a of g.ancestors) for (const f of byName.get(a)?.features ?? []) present.add(f.name);
    g.features.forEach(({ name: f }, i) => {
      for (const req of features.get(f)?.requires ?? []) {
        if (!present.has(req)) {
          issues.add(`${g.path}.features.${i}`, f, `needs feature "${req}" on this guest or a template it comes from`);
        }
      }
    });
  }
}

function checkUniqueResources(
  guests: readonly CompiledGuest[],
  clusters: readonly OpenShiftClusterSpec[],
  issues: Issues,
): void {
  const vmids = new Map<number, string>();
  const ips = new Map<string, string>();
  const macs = new Map<string, string>();
  for (const g of guests) {
    if (g.vmid !== undefined) {
      const other = vmids.get(g.vmid);
      if (other !== undefined) issues.add(`${g.path}.vmid`, g.vmid, `also used by guest "${other}"`);
      else vmids.set(g.vmid, g.name);
    }
    const ocp = g.kind === 'vm' && g.vm.openshift !== undefined;
    const ip = g.network.ip;
    if (ip !== undefined && ip !== 'dhcp') {
      const addr = addressOf(ip);
      const other = ips.get(addr);
      const field = ocp ? `${g.path}.ip` : `${g.path}.network.ip`;
      if (other !== undefined) issues.add(field, ip, `address also used by ${other}`);
      else ips.set(addr, `guest "${g.name}"`);
    }
    const mac = g.network.mac?.toLowerCase();
    if (mac !== undefined) {
      const other = macs.get(mac);
      const field = ocp ? `${g.path}.mac` : `${g.path}.network.mac`;
      if (other !== undefined) issues.add(field, g.network.mac, `MAC also used by guest "${other}"`);
      else macs.set(mac, g.name);
    }
  }
  clusters.forEach((c, ci) => {
    for (const key of ['apiVip', 'ingressVip'] as const) {
      const vip = c[key];
      if (vip === undefined) continue;
      const other = ips.get(vip);
      if (other !== undefined) issues.add(`openshift.${ci}.${key}`, vip, `address also used by ${other}`);
      else ips.set(vip, `openshift.${ci}.${key}`);
    }
  });
}

/**
 * Kahn's algorithm over template and dependency edges, ties broken by declaration order so the
 * result is stable. A cycle is reported with the guests on it.
 */
function topologicalOrder(guests: readonly CompiledGuest[], issues: Issues): string[] {
  const index = new Map(guests.map((g, i) => [g.name, i]));
  const indegree = new Array<number>(guests.length).fill(0);
  const children: number[][] = guests.map(() => []);
  guests.forEach((g, i) => {
    const parents = new Set<string>(g.dependencies);
    if (g.template?.kind === 'guest' && g.template.guest !== undefined) parents.add(g.template.guest);
    for (const p of parents) {
      const pi = index.get(p);
      if (pi === undefined || pi === i) continue;
      children[pi]?.push(i);
      indegree[i] = (indegree[i] ?? 0) + 1;
    }
  });
  const ready: number[] = [];
  indegree.forEach((d, i) => {
    if (d === 0) ready.push(i);
  });
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => a - b);
    const i = ready.shift() as number;
    order.push(guests[i]?.name ?? '');
    for (const c of children[i] ?? []) {
      indegree[c] = (indegree[c] ?? 0) - 1;
      if (indegree[c] === 0) ready.push(c);
    }
  }
  if (order.length < guests.length) {
    const stuck = guests.filter((_, i) => (indegree[i] ?? 0) > 0);
    const first = stuck[0];
    issues.add(
      first ? `${first.path}` : '(root)',
      stuck.map((g) => g.name),
      'template/dependency cycle among these guests',
    );
  }
  return order;
}
