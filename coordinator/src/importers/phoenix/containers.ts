/**
 * phoenix_lxc_configs.json → containers (docs/reference/phoenix-proxshift.md §1.2, §1.6). CTIDs are string keys; a per-CT key
 * that is missing falls back to the same key at the root of the file (scalars since E1, lists only
 * up to E3), which is how the root `nvidia_*` keys reach every container.
 */
import type { z } from 'zod';
import { cidrSchema, ipv4Schema, macSchema, snapshotNameSchema, storageIdSchema } from '@phoenix/shared';
import type { containerSchema } from '../../spec/guest.js';
import { basename, bool, camel, int, isObject, num, str, stringList, strArray, type JsonObject } from '../util.js';
import { firewallRules, hostname, refName, type ImportContext } from './common.js';
import type { HostImport } from './host.js';

export type ContainerInput = z.input<typeof containerSchema>;
type Mounts = NonNullable<ContainerInput['mounts']>;

const F = 'phoenix_lxc_configs.json';

const ROOT_KNOWN = new Set(['$schema', 'nvidia_driver_version', 'nvidia_repo_url', 'nvidia_runfile_url', 'lxc_configs']);

const CT_KEYS = new Set([
  'name',
  'start_at_boot',
  'boot_order',
  'boot_delay',
  'memory_mb',
  'swap_mb',
  'cores',
  'template',
  'storage_pool',
  'storage_size_gb',
  'network_config',
  'mac_address',
  'static_ip',
  'gpu_assignment',
  'portainer_role',
  'unprivileged',
  'clone_from_ctid',
  'template_snapshot_name',
  'features',
  'pct_options',
  'lxc_options',
  'apparmor_profile',
  'apparmor_manages_nesting',
  'application_script',
  'ports',
  'health_check',
  'health_checks',
  'firewall',
  'dependencies',
  'volumes',
  'zfs_volumes',
  'mount_points',
  'id_maps',
  'tests',
  'traefik_service',
  'bootstrap_ca_url',
  'enable_lifecycle_snapshots',
  'trigger_sync_on_completion',
  'vllm_engine_config',
  'nvidia_driver_version',
  'nvidia_repo_url',
  'nvidia_runfile_url',
  'run_integration_tests',
]);

const DEAD_CT: Readonly<Record<string, string>> = {
  vllm_parameters: 'never read by Phoenix',
  vllm_quantization: 'never read by Phoenix',
  vllm_trust_remote_code: 'never read by Phoenix',
  vllm: 'never read by Phoenix',
  integration_tests: 'never read by Phoenix',
  run_integration_tests: 'post-deployment tests are not imported',
  tests: 'test suites are not imported',
};

export interface ContainerImport {
  readonly id: string;
  readonly spec: ContainerInput;
  /** Phoenix ids, resolved to names once every guest is known. */
  readonly cloneFrom: string | undefined;
  readonly dependsOn: readonly string[];
  readonly templateSnapshot: string | undefined;
}

/** CT ids in numeric order: the order Phoenix's config tools listed them in is not meaningful. */
export function containerIds(lxc: JsonObject | undefined): string[] {
  const cts = isObject(lxc?.['lxc_configs']) ? lxc['lxc_configs'] : {};
  return Object.keys(cts).sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : 1));
}

export function importContainers(lxc: JsonObject | undefined, host: HostImport, ctx: ImportContext): ContainerImport[] {
  const { w, era } = ctx;
  if (!lxc) return [];
  const cts = isObject(lxc['lxc_configs']) ? lxc['lxc_configs'] : undefined;
  if (!cts) {
    w.add(`${F}:lxc_configs`, 'missing; no containers imported');
    return [];
  }
  // Root keys other than the known ones act as defaults through the lookup fallback.
  const rootDefaults: JsonObject = {};
  for (const [k, v] of Object.entries(lxc)) {
    if (ROOT_KNOWN.has(k)) continue;
    if (CT_KEYS.has(k)) {
      rootDefaults[k] = v;
      w.add(`${F}:${k}`, 'root key used as a default for every container that lacks it (Phoenix lookup fallback)');
    } else w.add(`${F}:${k}`, 'unknown root key; ignored');
  }
  const rootNvidia = str(lxc['nvidia_driver_version']);
  if (ctx.hostDriverVersion === undefined && rootNvidia) ctx.hostDriverVersion = rootNvidia;
  else if (rootNvidia && rootNvidia !== ctx.hostDriverVersion) {
    w.add(`${F}:nvidia_driver_version`, `differs from the host driver ${ctx.hostDriverVersion}; GPU containers keep ${rootNvidia} as their driverVersion (Phoenix's check would fail)`);
  }
  const listsFallBack = era === 'E1' || era === 'E2/E3';

  const out: ContainerImport[] = [];
  for (const id of containerIds(lxc)) {
    const raw = cts[id];
    const src = `${F}:lxc_configs.${id}`;
    if (!isObject(raw)) {
      w.add(src, 'not an object; skipped');
      continue;
    }
    // per-CT value first, then the root of the file
    const ct: JsonObject = { ...raw };
    for (const [k, v] of Object.entries(rootDefaults)) {
      const isList = Array.isArray(v);
      if ((ct[k] === undefined || ct[k] === null || ct[k] === '') && (!isList || listsFallBack)) ct[k] = v;
    }
    const imported = importContainer(id, ct, src, host, ctx, rootNvidia);
    if (imported) out.push(imported);
  }
  return out;
}

function importContainer(
  id: string,
  ct: JsonObject,
  src: string,
  host: HostImport,
  ctx: ImportContext,
  rootDriver: string | undefined,
): ContainerImport | undefined {
  const { w } = ctx;
  const rawName = str(ct['name']);
  if (!rawName) {
    w.add(src, 'no name (Phoenix treated such an id as absent); skipped');
    return undefined;
  }
  const name = hostname(rawName);
  if (name !== rawName) w.add(`${src}.name`, `${JSON.stringify(rawName)} is not a valid hostname; using ${JSON.stringify(name)}`);

  for (const key of Object.keys(ct)) {
    if (CT_KEYS.has(key) || key.startsWith('vllm_') || key === 'vllm' || key === 'integration_tests') continue;
    w.add(`${src}.${key}`, 'unknown key; ignored');
  }
  for (const [key, why] of Object.entries(DEAD_CT)) if (ct[key] !== undefined) w.add(`${src}.${key}`, `not imported: ${why}`);

  const spec: ContainerInput = { name };
  const vmid = int(id);
  if (vmid !== undefined && vmid >= 100) spec.vmid = vmid;
  else w.add(src, `CTID ${JSON.stringify(id)} is not a valid VMID; it will be allocated`);

  const cloneFrom = str(ct['clone_from_ctid']);
  const templateFile = str(ct['template']);
  if (!cloneFrom && templateFile) spec.template = osTemplate(templateFile, `${src}.template`, host, ctx);
  else if (cloneFrom && templateFile) w.add(`${src}.template`, 'ignored: the container is cloned (clone_from_ctid)');

  const cores = int(ct['cores']);
  if (cores !== undefined && cores >= 1) spec.cores = cores;
  const mem = int(ct['memory_mb']);
  if (mem !== undefined && mem >= 1) spec.memoryMiB = mem;
  const swap = int(ct['swap_mb']);
  if (swap !== undefined && swap >= 0) {
    spec.swapMiB = swap;
    w.add(`${src}.swap_mb`, 'Phoenix never applied swap_mb; the spec does');
  }
  const disk = int(ct['storage_size_gb']);
  if (disk !== undefined && disk >= 1) spec.diskGiB = disk;
  const storage = str(ct['storage_pool']);
  if (storage && storageIdSchema.safeParse(storage).success) spec.storage = storage;
  else if (storage) w.add(`${src}.storage_pool`, `${JSON.stringify(storage)} is not a storage id; left out`);

  spec.network = nic(ct, src, ctx);

  const unpriv = bool(ct['unprivileged']);
  if (unpriv !== undefined) spec.unprivileged = unpriv;

  // features: E0 kept Proxmox features in a string; later eras an ordered list of Phoenix features
  const pveFeatures: NonNullable<ContainerInput['pveFeatures']> = {};
  if (typeof ct['features'] === 'string') {
    pveOptions(ct['features'].split(','), `${src}.features`, pveFeatures, ctx);
  } else {
    const list = strArray(ct['features']);
    if (list && list.length > 0) spec.features = [...new Set(list.map((f) => f.toLowerCase()))];
  }
  const pct = strArray(ct['pct_options']);
  if (pct) pveOptions(pct, `${src}.pct_options`, pveFeatures, ctx);
  if (Object.keys(pveFeatures).length > 0) spec.pveFeatures = pveFeatures;

  // AppArmor and raw lxc lines (kept whole; Phoenix word-split them)
  const profile = str(ct['apparmor_profile']);
  let allowNesting = profile !== undefined && profile !== 'unconfined' && bool(ct['apparmor_manages_nesting']) === true;
  let apparmorProfile = profile;
  const raw: string[] = [];
  for (const [i, line] of (strArray(ct['lxc_options']) ?? []).entries()) {
    const m = /^(lxc\.[a-z0-9_.]+)\s*[=:]\s*(.+)$/.exec(line.trim());
    if (!m) {
      w.add(`${src}.lxc_options.${i}`, `${JSON.stringify(line)} is not an lxc.* key=value line; dropped`);
      continue;
    }
    const key = m[1] as string;
    const value = (m[2] as string).trim();
    if (key === 'lxc.apparmor.profile') {
      if (apparmorProfile === undefined) apparmorProfile = value;
      else if (apparmorProfile !== value) {
        w.add(`${src}.lxc_options.${i}`, `contradicts apparmor_profile ${JSON.stringify(apparmorProfile)}; apparmor_profile wins`);
      }
      continue;
    }
    if (key === 'lxc.apparmor.allow_nesting') {
      allowNesting = value === '1' || value === 'true';
      continue;
    }
    raw.push(key === 'lxc.cap.keep' ? `${key}: ${value.split(/[,\s]+/).join(' ')}` : `${key}: ${value}`);
  }
  if (apparmorProfile !== undefined) {
    spec.apparmor = { profile: apparmorProfile, ...(allowNesting ? { allowNesting: true } : {}) };
  }
  if (raw.length > 0) spec.lxcRaw = raw;

  // GPUs: "0, 1" means GPUs 0 and 1 (E1–E3 dropped the " 1")
  const gpuText = str(ct['gpu_assignment']);
  if (gpuText && gpuText.toLowerCase() !== 'none') {
    const devices = gpuText.split(',').map((x) => x.trim()).filter(Boolean).map(Number);
    if (devices.every((d) => Number.isInteger(d) && d >= 0 && d < 64) && devices.length > 0) {
      const unique = [...new Set(devices)];
      if (/,\s/.test(gpuText) && ctx.era !== 'E4' && unique.length > 1) {
        w.add(`${src}.gpu_assignment`, `${JSON.stringify(gpuText)}: this era bound only GPU ${unique[0]} (the rest were not trimmed); all are requested now`);
      }
      const gpu: NonNullable<ContainerInput['gpu']> = { count: unique.length, devices: unique, passthrough: 'device' };
      const driver = str(ct['nvidia_driver_version']) ?? rootDriver;
      if (driver && driver !== ctx.hostDriverVersion && /^\d+\.\d+(\.\d+)?$/.test(driver)) gpu.driverVersion = driver;
      spec.gpu = gpu;
    } else {
      w.add(`${src}.gpu_assignment`, `${JSON.stringify(gpuText)} is not a list of GPU indices; no GPU requested`);
    }
  }
  for (const key of ['nvidia_repo_url', 'nvidia_runfile_url']) {
    if (ct[key] !== undefined) w.add(`${src}.${key}`, 'per-container NVIDIA download URLs are not imported; the host profile carries them');
  }

  const script = str(ct['application_script']);
  if (script && /^[A-Za-z0-9._/-]+$/.test(script)) spec.applicationScript = script;
  const ports = (strArray(ct['ports']) ?? []).filter((p) => /^\d{1,5}:\d{1,5}(\/(tcp|udp))?$/.test(p));
  if (ports.length > 0) spec.ports = ports;

  const hc = healthCheck(ct, src, ctx);
  if (hc) spec.healthCheck = hc;

  const start = startOf(ct);
  if (start) spec.start = start;

  const snap = str(ct['template_snapshot_name']);
  let templateSnapshot: string | undefined;
  if (snap) {
    if (snapshotNameSchema.safeParse(snap).success) {
      spec.snapshotAsTemplate = snap;
      templateSnapshot = snap;
    } else w.add(`${src}.template_snapshot_name`, `${JSON.stringify(snap)} is not a valid snapshot name; left out`);
  }
  if (bool(ct['enable_lifecycle_snapshots']) === true) {
    // E4 re-took final-form, which is also the template snapshot children clone from: keep one.
    const life: NonNullable<ContainerInput['lifecycleSnapshots']> = { beforeFeatures: 'pre-configured' };
    if (snap === 'final-form') {
      w.add(`${src}.enable_lifecycle_snapshots`, 'final-form is also the template snapshot; it is taken once, not re-taken');
    } else life.afterFeatures = 'final-form';
    spec.lifecycleSnapshots = life;
  }

  const fw = isObject(ct['firewall']) ? ct['firewall'] : undefined;
  if (fw) {
    const rules = firewallRules(fw['rules'], `${src}.firewall.rules`, w);
    const enabled = bool(fw['enabled']) ?? true;
    if (enabled && rules.length === 0) w.add(`${src}.firewall`, 'enabled without rules');
    spec.firewall = { enabled, rules };
  }

  const mounts = containerMounts(ct, src, ctx);
  if (mounts.length > 0) spec.mounts = mounts;

  const idmaps = Array.isArray(ct['id_maps']) ? ct['id_maps'] : [];
  const idmap: NonNullable<ContainerInput['idmap']> = [];
  idmaps.forEach((m, i) => {
    if (!isObject(m)) return;
    const type = str(m['type']);
    const hostId = int(m['host_id']);
    const containerId = int(m['container_id']);
    const size = int(m['size']) ?? 1;
    if ((type === 'uid' || type === 'gid') && hostId !== undefined && containerId !== undefined && size >= 1) {
      idmap.push({ type, containerId, hostId, size });
    } else w.add(`${src}.id_maps.${i}`, 'incomplete id map entry; dropped');
  });
  if (idmap.length > 0) {
    spec.idmap = idmap;
    if (ctx.era === 'E4') w.add(`${src}.id_maps`, 'Phoenix only reset the default map; these entries are now applied');
  }

  const app = appConfig(ct);
  if (Object.keys(app).length > 0) spec.appConfig = app;

  const deps = (stringList(ct['dependencies']) ?? []).map(String);
  return { id, spec, cloneFrom, dependsOn: deps, templateSnapshot };
}

/** An OS template path → a template entry on the storage whose dataset holds that path. */
function osTemplate(path: string, src: string, host: HostImport, ctx: ImportContext): string {
  const file = basename(path);
  const stem = file.split('_')[0] ?? file;
  let name = refName(stem.replace(/\.(tar\.(zst|gz|xz)|tgz)$/, ''));
  const existing = ctx.templates.get(name);
  if (existing && !(existing.kind === 'os-template' && existing.file === file)) name = refName(file);
  if (!ctx.templates.has(name)) {
    let storage: string | undefined;
    for (const [prefix, id] of host.datasetPaths) if (path.startsWith(`${prefix}/`)) storage = id;
    const volume = /^([A-Za-z][A-Za-z0-9_.-]*):vztmpl\//.exec(path);
    if (volume) storage = volume[1];
    if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(file)) ctx.w.add(src, `${JSON.stringify(file)} is not a plain file name`);
    ctx.templates.set(name, { kind: 'os-template', name, file, ...(storage ? { storage } : {}) });
  }
  return name;
}

function nic(ct: JsonObject, src: string, ctx: ImportContext): NonNullable<ContainerInput['network']> {
  const { w } = ctx;
  const nc = isObject(ct['network_config']) ? ct['network_config'] : {};
  const out: NonNullable<ContainerInput['network']> = {};
  const ifname = str(nc['name']);
  if (ifname && /^[a-z][a-z0-9]{0,14}$/.test(ifname)) out.name = ifname;
  const bridge = str(nc['bridge']);
  if (bridge) out.bridge = bridge;
  const ip = str(nc['ip']);
  if (ip) {
    if (ip === 'dhcp' || cidrSchema.safeParse(ip).success) out.ip = ip;
    else w.add(`${src}.network_config.ip`, `${JSON.stringify(ip)} is not a CIDR; using DHCP`);
  }
  const staticIp = str(ct['static_ip']);
  if (staticIp && staticIp.split('/')[0] !== ip?.split('/')[0]) {
    w.add(`${src}.static_ip`, `differs from network_config.ip (${ip ?? 'none'}); network_config.ip wins`);
  }
  const gw = str(nc['gw']);
  if (gw && ipv4Schema.safeParse(gw).success && out.ip !== 'dhcp') out.gateway = gw;
  const ns = (stringList(nc['nameservers'] ?? nc['nameserver']) ?? []).filter((x) => ipv4Schema.safeParse(x).success);
  if (ns.length > 0) out.nameservers = ns;
  const mac = str(ct['mac_address']);
  if (mac) {
    if (macSchema.safeParse(mac).success) out.mac = mac.toUpperCase();
    else w.add(`${src}.mac_address`, `${JSON.stringify(mac)} is not a unicast MAC; left out`);
  }
  return out;
}

function pveOptions(
  items: readonly string[],
  src: string,
  out: NonNullable<ContainerInput['pveFeatures']>,
  ctx: ImportContext,
): void {
  for (const item of items.map((x) => x.trim()).filter(Boolean)) {
    const [k = '', v = '1'] = item.split('=');
    const on = v === '1' || v === 'true';
    if (k === 'nesting' || k === 'keyctl' || k === 'fuse' || k === 'mknod') out[k] = on;
    else if (k === 'mount') out.mount = v.split(';').filter((x) => /^[a-z0-9]+$/.test(x));
    else ctx.w.add(src, `Proxmox feature ${JSON.stringify(item)} unknown; left out`);
  }
}

function healthCheck(ct: JsonObject, src: string, ctx: ImportContext): ContainerInput['healthCheck'] {
  const hc = isObject(ct['health_check']) ? ct['health_check'] : undefined;
  if (hc) {
    // Phoenix word-split the command and ran it without a shell: the same argv here.
    const command = (str(hc['command']) ?? '').split(/\s+/).filter(Boolean);
    if (command.length === 0) return undefined;
    const out: NonNullable<ContainerInput['healthCheck']> = { command };
    const retries = int(hc['retries']);
    if (retries !== undefined && retries >= 1) out.retries = retries;
    const interval = int(hc['interval']);
    if (interval !== undefined && interval >= 1) out.intervalSeconds = interval;
    if (ctx.era === 'E4') ctx.w.add(`${src}.health_check`, 'E4 read health_checks instead and skipped this; it runs again');
    return out;
  }
  const list = Array.isArray(ct['health_checks']) ? ct['health_checks'] : [];
  const first = list.find(isObject);
  if (first) {
    const script = str(first['script']);
    if (!script) return undefined;
    if (list.length > 1) ctx.w.add(`${src}.health_checks`, 'only the first health check is imported');
    return { command: [script, ...(strArray(first['args']) ?? [])] };
  }
  return undefined;
}

export function startOf(g: JsonObject): ContainerInput['start'] {
  const onBoot = bool(g['start_at_boot']);
  const order = int(g['boot_order']);
  const delay = int(g['boot_delay']);
  if (onBoot === undefined && order === undefined && delay === undefined) return undefined;
  const start: NonNullable<ContainerInput['start']> = {};
  if (onBoot !== undefined) start.onBoot = onBoot;
  if (order !== undefined && order >= 0) start.order = order;
  if (delay !== undefined && delay >= 0) {
    start.upDelaySeconds = delay;
    start.downDelaySeconds = delay;
  }
  return start;
}

function containerMounts(ct: JsonObject, src: string, ctx: ImportContext): Mounts {
  const { w } = ctx;
  const mounts: Mounts = [];
  const paths = new Set<string>();
  const add = (m: Mounts[number], where: string): void => {
    const path = m.path;
    if (path !== undefined && paths.has(path)) {
      w.add(where, `a mount at ${path} already exists; this one is dropped`);
      return;
    }
    if (path !== undefined) paths.add(path);
    mounts.push(m);
  };
  for (const key of ['volumes', 'zfs_volumes'] as const) {
    (Array.isArray(ct[key]) ? ct[key] : []).forEach((v, i) => {
      if (!isObject(v)) return;
      const storage = str(v['pool']);
      const size = int(v['size_gb']);
      const path = str(v['mount_point']);
      if (!storage || !storageIdSchema.safeParse(storage).success || size === undefined || size < 1 || !path?.startsWith('/')) {
        w.add(`${src}.${key}.${i}`, 'volume needs pool (a storage id), size_gb and an absolute mount_point; dropped');
        return;
      }
      const name = str(v['name']);
      add({ type: 'volume', storage, sizeGiB: size, path, ...(name && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) ? { name } : {}) }, `${src}.${key}.${i}`);
    });
  }
  (Array.isArray(ct['mount_points']) ? ct['mount_points'] : []).forEach((m, i) => {
    if (!isObject(m)) return;
    const hostPath = str(m['host_path']);
    const path = str(m['container_path']);
    if (!hostPath?.startsWith('/') || !path?.startsWith('/')) {
      w.add(`${src}.mount_points.${i}`, 'needs absolute host_path and container_path; dropped');
      return;
    }
    const uid = int(m['owner_uid']);
    const gid = int(m['owner_gid']);
    add(
      {
        type: 'bind',
        hostPath,
        path,
        ...(uid !== undefined ? { ownerUid: uid } : {}),
        ...(gid !== undefined ? { ownerGid: gid } : {}),
      },
      `${src}.mount_points.${i}`,
    );
  });
  return mounts;
}

/** Application parameters that Phoenix kept as loose keys, grouped for the features that use them. */
function appConfig(ct: JsonObject): Record<string, unknown> {
  const app: Record<string, unknown> = {};
  const vllm: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ct)) {
    if (!k.startsWith('vllm_') || Object.hasOwn(DEAD_CT, k) || v === null) continue;
    if (k === 'vllm_engine_config') vllm['engineConfig'] = v;
    else vllm[camel(k.slice('vllm_'.length))] = v;
  }
  if (Object.keys(vllm).length > 0) app['vllm'] = vllm;
  const traefik = isObject(ct['traefik_service']) ? ct['traefik_service'] : undefined;
  if (traefik) app['traefik'] = { name: str(traefik['name']), port: num(traefik['port']) };
  const portainer: Record<string, unknown> = {};
  const role = str(ct['portainer_role']);
  if (role && role !== 'none') portainer['role'] = role;
  if (bool(ct['trigger_sync_on_completion']) === true) portainer['syncOnCompletion'] = true;
  if (Object.keys(portainer).length > 0) app['portainer'] = portainer;
  const ca = str(ct['bootstrap_ca_url']);
  if (ca) app['bootstrapCaUrl'] = ca;
  return app;
}
