/**
 * VMs of all three Phoenix variants (docs/reference/phoenix-proxshift.md §1.3): A — inline in the hypervisor file, by name,
 * VMID allocated; B — phoenix_vm_configs.json with integer VMIDs; C — B plus the E4 keys. Each VM is
 * `vm_defaults` shallow-merged with its entry; the per-VM values later eras ignored are honoured.
 */
import type { z } from 'zod';
import { cidrSchema, ipv4Schema, snapshotNameSchema, storageIdSchema, usernameSchema } from '@phoenix/shared';
import type { vmSchema } from '../../spec/guest.js';
import { bool, int, isObject, num, str, stringList, strArray, type JsonObject } from '../util.js';
import { firewallRules, hostname, refName, reportUnknown, type ImportContext } from './common.js';
import { startOf } from './containers.js';

export type VmInput = z.input<typeof vmSchema>;

const VM_KEYS = new Set([
  'vmid',
  'name',
  'is_template',
  'template_image',
  'clone_from_vmid',
  'template_snapshot_name',
  'template',
  'cores',
  'memory_mb',
  'disk_size_gb',
  'storage_pool',
  'network_bridge',
  'features',
  'network_config',
  'user_config',
  'start_at_boot',
  'boot_order',
  'boot_delay',
  'portainer_role',
  'portainer_environment_name',
  'portainer_agent_hostname',
  'dependencies',
  'traefik_service',
  'volumes',
  'docker_stacks',
  'dns_records',
  'firewall',
  'snapshots',
  'qm_options',
  'count',
  'trigger_sync_on_completion',
  'post_create_scripts',
]);

export interface VmImport {
  readonly id: string | undefined;
  readonly spec: VmInput;
  readonly cloneFrom: string | undefined;
  readonly dependsOn: readonly string[];
  readonly isTemplate: boolean;
}

export interface VmDefaults {
  readonly cores?: number;
  readonly memoryMiB?: number;
  readonly diskGiB?: number;
  readonly storage?: string;
  readonly bridge?: string;
}

export function vmDefaults(raw: unknown, source: string, ctx: ImportContext, inline: boolean): VmDefaults {
  if (!isObject(raw)) return {};
  const out: { cores?: number; memoryMiB?: number; diskGiB?: number; storage?: string; bridge?: string } = {};
  const cores = int(raw['cores']);
  if (cores !== undefined && cores >= 1) out.cores = cores;
  const mem = int(raw['memory_mb']);
  if (mem !== undefined && mem >= 1) out.memoryMiB = mem;
  const disk = int(raw['disk_size_gb']);
  if (disk !== undefined && disk >= 1) out.diskGiB = disk;
  const storage = str(raw['storage_pool']);
  if (storage && storageIdSchema.safeParse(storage).success) out.storage = storage;
  const bridge = str(raw['network_bridge']);
  if (bridge) out.bridge = bridge;
  if (!inline && raw['template'] !== undefined) {
    ctx.w.add(`${source}.template`, 'not read by Phoenix since E2 (images come from template_image); ignored');
  }
  reportUnknown(
    raw,
    new Set(['template', 'cores', 'memory_mb', 'disk_size_gb', 'storage_pool', 'network_bridge', 'ubuntu_release']),
    source,
    ctx.w,
  );
  return out;
}

export function importVms(
  list: unknown,
  file: string,
  defaults: VmDefaults,
  inlineTemplate: string | undefined,
  ubuntuRelease: string | undefined,
  ctx: ImportContext,
): VmImport[] {
  if (!Array.isArray(list)) return [];
  const out: VmImport[] = [];
  list.forEach((raw, i) => {
    const src = `${file}:vms.${i}`;
    if (!isObject(raw)) {
      ctx.w.add(src, 'not an object; skipped');
      return;
    }
    const vm = importVm(raw, src, defaults, inlineTemplate, ubuntuRelease, ctx);
    if (vm) out.push(vm);
  });
  return out;
}

function importVm(
  vm: JsonObject,
  src: string,
  defaults: VmDefaults,
  inlineTemplate: string | undefined,
  ubuntuRelease: string | undefined,
  ctx: ImportContext,
): VmImport | undefined {
  const { w } = ctx;
  const rawName = str(vm['name']);
  if (!rawName) {
    w.add(src, 'no name; skipped');
    return undefined;
  }
  reportUnknown(vm, VM_KEYS, src, w);
  const name = hostname(rawName);
  if (name !== rawName) w.add(`${src}.name`, `${JSON.stringify(rawName)} is not a valid hostname; using ${JSON.stringify(name)}`);
  const spec: VmInput = { name };

  let id: string | undefined;
  if (vm['vmid'] !== undefined) {
    const vmid = int(vm['vmid']);
    if (typeof vm['vmid'] === 'string') w.add(`${src}.vmid`, 'a string VMID (E4 never found such VMs); read as a number');
    if (vmid !== undefined && vmid >= 100) {
      spec.vmid = vmid;
      id = String(vmid);
    } else w.add(`${src}.vmid`, `${JSON.stringify(vm['vmid'])} is not a VMID; it will be allocated`);
  } else if (ctx.era === 'E1') {
    w.add(src, 'E1 VMs had no VMID (first free id ≥ 9000 on every run); the spec allocates one once');
  }

  const isTemplate = bool(vm['is_template']) === true;
  if (isTemplate) spec.convertToTemplate = true;
  const cloneFrom = vm['clone_from_vmid'] !== undefined ? String(int(vm['clone_from_vmid']) ?? str(vm['clone_from_vmid'])) : undefined;
  const image = str(vm['template_image']);
  if (!cloneFrom) {
    if (image) spec.template = cloudImage(image, ubuntuRelease ?? 'noble', ctx);
    else if (inlineTemplate) {
      spec.template = cloudImage(inlineTemplate, undefined, ctx);
    }
  } else if (image) w.add(`${src}.template_image`, 'ignored: the VM is cloned (clone_from_vmid)');

  const cores = int(vm['cores']);
  if (cores !== undefined && cores >= 1 && cores !== defaults.cores) spec.cores = cores;
  const mem = int(vm['memory_mb']);
  if (mem !== undefined && mem >= 1 && mem !== defaults.memoryMiB) spec.memoryMiB = mem;
  const disk = int(vm['disk_size_gb']);
  if (disk !== undefined && disk >= 1 && disk !== defaults.diskGiB) spec.diskGiB = disk;
  const storage = str(vm['storage_pool']);
  if (storage && storageIdSchema.safeParse(storage).success && storage !== defaults.storage) spec.storage = storage;

  const features = strArray(vm['features']);
  if (features && features.length > 0) spec.features = [...new Set(features.map((f) => f.toLowerCase()))];

  // network: ip is a CIDR or "dhcp"; nameservers a list (E2) or one nameserver (E4)
  const nc = isObject(vm['network_config']) ? vm['network_config'] : {};
  const network: NonNullable<VmInput['network']> = {};
  const bridge = str(vm['network_bridge']);
  if (bridge && bridge !== defaults.bridge) network.bridge = bridge;
  const ip = str(nc['ip']);
  if (ip) {
    if (ip === 'dhcp' || cidrSchema.safeParse(ip).success) network.ip = ip;
    else w.add(`${src}.network_config.ip`, `${JSON.stringify(ip)} is not a CIDR or dhcp; using DHCP`);
  }
  const gw = str(nc['gw']);
  if (gw && ipv4Schema.safeParse(gw).success && network.ip !== 'dhcp') network.gateway = gw;
  const ns = (stringList(nc['nameservers'] ?? nc['nameserver']) ?? []).filter((x) => ipv4Schema.safeParse(x).success);
  if (ns.length > 0) network.nameservers = ns;
  spec.network = network;

  const uc = isObject(vm['user_config']) ? vm['user_config'] : undefined;
  const user = str(uc?.['username']);
  if (user && usernameSchema.safeParse(user).success) spec.cloudInit = { user };
  if (uc && str(uc['gw']) !== undefined && str(uc['gw']) !== gw) {
    w.add(`${src}.user_config.gw`, 'differs from network_config.gw; network_config.gw wins');
  }

  const start = startOf(vm);
  if (start) spec.start = start;

  // snapshots: E2 took template_snapshot_name after provisioning, E4 pre/post-features
  const life: { beforeFeatures?: string; afterFeatures?: string } = {};
  const snaps = isObject(vm['snapshots']) ? vm['snapshots'] : undefined;
  const pre = str(snaps?.['pre-features']);
  const post = str(snaps?.['post-features']) ?? str(vm['template_snapshot_name']);
  if (pre && snapshotNameSchema.safeParse(pre).success) life.beforeFeatures = pre;
  if (post && snapshotNameSchema.safeParse(post).success) life.afterFeatures = post;
  if (Object.keys(life).length > 0) spec.lifecycleSnapshots = life;

  const mounts: NonNullable<VmInput['mounts']> = [];
  (Array.isArray(vm['volumes']) ? vm['volumes'] : []).forEach((v, i) => {
    if (!isObject(v)) return;
    const type = str(v['type']) ?? 'nfs';
    const server = str(v['server']);
    const exportPath = str(v['path']);
    const path = str(v['mount_point']);
    if (type !== 'nfs' || !server || !exportPath?.startsWith('/') || !path?.startsWith('/')) {
      w.add(`${src}.volumes.${i}`, 'only NFS volumes with server, path and mount_point are imported; dropped');
      return;
    }
    if (mounts.some((m) => m.path === path)) {
      w.add(`${src}.volumes.${i}`, `a mount at ${path} already exists; dropped`);
      return;
    }
    const vname = str(v['name']);
    mounts.push({ type: 'nfs', server, export: exportPath, path, ...(vname && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(vname) ? { name: vname } : {}) });
  });
  if (mounts.length > 0) spec.mounts = mounts;

  // docker_stacks: strings in the data, {name, environment} objects in the schema
  const stacks: NonNullable<VmInput['dockerStacks']> = [];
  (Array.isArray(vm['docker_stacks']) ? vm['docker_stacks'] : []).forEach((s, i) => {
    const sname = typeof s === 'string' ? s : isObject(s) ? str(s['name']) : undefined;
    const env = isObject(s) ? str(s['environment']) : undefined;
    if (!sname || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(sname)) {
      w.add(`${src}.docker_stacks.${i}`, 'stack without a usable name; dropped');
      return;
    }
    stacks.push({ name: sname, ...(env ? { environment: env } : {}) });
  });
  if (stacks.length > 0) spec.dockerStacks = stacks;

  const fw = isObject(vm['firewall']) ? vm['firewall'] : undefined;
  if (fw) spec.firewall = { enabled: bool(fw['enabled']) ?? true, rules: firewallRules(fw['rules'], `${src}.firewall.rules`, w) };

  const app: Record<string, unknown> = {};
  const portainer: Record<string, unknown> = {};
  const role = str(vm['portainer_role']);
  if (role && role !== 'none') portainer['role'] = role;
  const envName = str(vm['portainer_environment_name']);
  if (envName) portainer['environmentName'] = envName;
  const agentHost = str(vm['portainer_agent_hostname']);
  if (agentHost) portainer['agentHostname'] = agentHost;
  if (bool(vm['trigger_sync_on_completion']) === true) portainer['syncOnCompletion'] = true;
  if (Object.keys(portainer).length > 0) app['portainer'] = portainer;
  const traefik = isObject(vm['traefik_service']) ? vm['traefik_service'] : undefined;
  if (traefik) app['traefik'] = { name: str(traefik['name']), port: num(traefik['port']) };
  const dns = Array.isArray(vm['dns_records']) ? vm['dns_records'] : [];
  if (dns.length > 0) app['dnsRecords'] = dns;
  const scripts = strArray(vm['post_create_scripts']);
  if (scripts && scripts.length > 0) {
    app['postCreateScripts'] = scripts;
    w.add(`${src}.post_create_scripts`, 'host-side scripts are kept in appConfig only; turn them into features');
  }
  if (Object.keys(app).length > 0) spec.appConfig = app;
  for (const key of ['qm_options', 'count']) if (vm[key] !== undefined) w.add(`${src}.${key}`, 'read by no Phoenix code; not imported');

  const deps = (stringList(vm['dependencies']) ?? []).map(String);
  return { id, spec, cloneFrom, dependsOn: deps, isTemplate };
}

/** A cloud image file → a cloud-image template (URL for Ubuntu images from the release name). */
function cloudImage(file: string, release: string | undefined, ctx: ImportContext): string {
  let name = refName(file.replace(/\.(img|qcow2|raw)$/, ''));
  const existing = ctx.templates.get(name);
  if (existing && !(existing.kind === 'cloud-image' && existing.file === file)) name = refName(`${name}-image`);
  if (!ctx.templates.has(name)) {
    const ubuntu = release !== undefined && /cloudimg/.test(file);
    ctx.templates.set(name, {
      kind: 'cloud-image',
      name,
      file: /^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(file) ? file : refName(file),
      ...(ubuntu ? { url: `https://cloud-images.ubuntu.com/${release}/current/${file}` } : {}),
    });
    if (!ubuntu) ctx.w.add(`template ${name}`, `E1 imported disks from ${JSON.stringify(file)}; check the cloud image file name`);
  }
  return name;
}
