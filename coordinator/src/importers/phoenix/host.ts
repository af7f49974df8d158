/**
 * phoenix_hypervisor_config.json → a host profile (docs/reference/phoenix-proxshift.md §1.1, §2.8), doing what the setup scripts
 * meant: every NFS client gets the export options, Samba share options are honoured, storage ids
 * follow the `<pool>-<dataset>` rule with the exact-key override, the firewall is read from either
 * place it was kept.
 */
import type { z } from 'zod';
import { cidrSchema, ipv4Schema, poolNameSchema, storageIdSchema, usernameSchema } from '@phoenix/shared';
import type { hostSetupSchema } from '../../spec/host.js';
import { STORAGE_CONTENT } from '../../spec/host.js';
import { hostFieldsNotCarriedOut } from '../../spec/host-compile.js';
import { basename, bool, int, isObject, str, stringList, strArray, type JsonObject } from '../util.js';
import { firewallRules, reportUnknown, type ImportContext } from './common.js';

export type HostSetupInput = z.input<typeof hostSetupSchema>;
type ZfsInput = NonNullable<HostSetupInput['zfs']>;
type DatasetInput = NonNullable<ZfsInput['datasets']>[number];
type PoolInput = NonNullable<ZfsInput['pools']>[number];
type StorageContentName = (typeof STORAGE_CONTENT)[number];

const F = 'phoenix_hypervisor_config.json';

const KNOWN_TOP = new Set([
  'version',
  'author',
  'domain_name',
  'users',
  'core_paths',
  'timezone',
  'network',
  'docker',
  'nfs',
  'samba',
  'zfs',
  'proxmox_storage_ids',
  'mount_point_base',
  'proxmox_defaults',
  'tests',
  'nvidia_driver',
  'behavior',
  'shared_volumes',
  'firewall',
  'portainer_api',
  'vm_defaults',
  'vms',
  'dns_server',
  'step_ca',
  '$schema',
]);

/** Keys that no Phoenix code of any era read (or only E0 did). */
const DEAD: Readonly<Record<string, string>> = {
  core_paths: 'install paths of the bash tool; not part of a spec',
  docker: 'Portainer images were hard-coded or come from the portainer stack',
  proxmox_defaults: 'dead since E0 (carried over from the shell config)',
  behavior: 'dead since E0',
  tests: 'hypervisor test suites are not imported',
  mount_point_base: 'Proxmox mounts storages under /mnt/pve itself',
  step_ca: 'CA settings belong to the step_ca feature of its container; not imported',
  portainer_api: 'Portainer API settings are not imported (the admin password belongs in the secret store)',
};

export interface HostImport {
  readonly profile: HostSetupInput;
  readonly nodeName: string;
  readonly nodeAddress: string | undefined;
  readonly domain: string | undefined;
  /** Shared volumes other than the firewall: host path → CTID → container path (E1 semantics). */
  readonly sharedVolumes: readonly { name: string; hostPath: string; mounts: Record<string, string> }[];
  /** Mount path of each dataset storage (`/<pool>/<dataset>`) → storage id, to place OS templates. */
  readonly datasetPaths: ReadonlyMap<string, string>;
  readonly ubuntuRelease: string | undefined;
}

/** `<pool>-<dataset>`, unless proxmox_storage_ids has the exact key `<pool>_<dataset with _>`. */
export function storageIdFor(pool: string, dataset: string, overrides: JsonObject | undefined): string {
  const key = `${pool}_${dataset.replace(/-/g, '_')}`;
  const override = overrides ? str(overrides[key]) : undefined;
  return override ?? `${pool}-${dataset}`;
}

export function importHost(h: JsonObject | undefined, ctx: ImportContext, nodeOverride: string | undefined): HostImport {
  const { w } = ctx;
  const profile: HostSetupInput = {};
  const net = isObject(h?.['network']) ? h['network'] : undefined;
  const datasetPaths = new Map<string, string>();
  const hostnameRaw = str(net?.['hostname']);
  const nodeName = nodeOverride ?? hostnameRaw?.toLowerCase().replace(/[^a-z0-9-]/g, '-') ?? 'phoenix';
  if (!h) {
    return {
      profile,
      nodeName,
      nodeAddress: undefined,
      domain: undefined,
      sharedVolumes: [],
      datasetPaths,
      ubuntuRelease: undefined,
    };
  }
  reportUnknown(h, KNOWN_TOP, F, w);
  for (const [key, why] of Object.entries(DEAD)) if (h[key] !== undefined) w.add(`${F}:${key}`, `not imported: ${why}`);

  const timezone = str(h['timezone']);
  if (timezone) profile.timezone = timezone;

  // network
  let nodeAddress: string | undefined;
  if (net) {
    const ifs = isObject(net['interfaces']) ? net['interfaces'] : undefined;
    const network: NonNullable<HostSetupInput['network']> = {};
    if (hostnameRaw) network.hostname = hostnameRaw;
    if (ifs) {
      const bridge: { name: string; address?: string; gateway?: string } = { name: str(ifs['name']) ?? 'vmbr0' };
      const address = str(ifs['address']);
      if (address && cidrSchema.safeParse(address).success) {
        bridge.address = address;
        nodeAddress = address.split('/')[0];
      } else if (address) w.add(`${F}:network.interfaces.address`, `${JSON.stringify(address)} is not an IPv4 CIDR; left out`);
      const gw = str(ifs['gateway']);
      if (gw && ipv4Schema.safeParse(gw).success) bridge.gateway = gw;
      network.bridges = [bridge];
      // a string in E2, an array in E4
      const dns = stringList(ifs['dns_nameservers']) ?? [];
      network.nameservers = dns.filter((d) => ipv4Schema.safeParse(d).success);
    }
    const domain = str(h['domain_name']);
    if (domain) network.searchDomain = domain;
    profile.network = network;
    for (const key of ['external_registry_url', 'portainer_server_ip', 'portainer_server_port', 'portainer_agent_port']) {
      if (net[key] !== undefined) w.add(`${F}:network.${key}`, 'Portainer/registry address not imported (mostly dead in Phoenix)');
    }
    if (net['fallback_dns'] !== undefined) w.add(`${F}:network.fallback_dns`, 'no Phoenix code read it; not imported');
    for (const key of Object.keys(net)) {
      if (!['interfaces', 'hostname', 'workgroup', 'default_subnet', 'nfs_server', 'fallback_dns', 'external_registry_url', 'portainer_server_ip', 'portainer_server_port', 'portainer_agent_port'].includes(key)) {
        w.add(`${F}:network.${key}`, 'unknown key; ignored');
      }
    }
  }

  // ZFS pools, datasets and the storages registered from them
  const overrides = isObject(h['proxmox_storage_ids']) ? h['proxmox_storage_ids'] : undefined;
  const zfsRaw = isObject(h['zfs']) ? h['zfs'] : undefined;
  const derivedIds = new Set<string>();
  if (zfsRaw) {
    const zfs: ZfsInput = {};
    const arc = int(zfsRaw['arc_max_gb']);
    if (arc !== undefined && arc >= 1) zfs.arcMaxGiB = arc;
    const pools: PoolInput[] = [];
    (Array.isArray(zfsRaw['pools']) ? zfsRaw['pools'] : []).forEach((p, i) => {
      const src = `${F}:zfs.pools.${i}`;
      if (!isObject(p)) return;
      const name = str(p['name']);
      if (!name || !poolNameSchema.safeParse(name).success) {
        w.add(src, `pool name ${JSON.stringify(p['name'])} invalid; pool dropped`);
        return;
      }
      const level = (str(p['raid_level']) ?? 'single').toLowerCase();
      const layout: PoolInput['layout'] =
        level === 'mirror' ? 'mirror' : level === 'raidz1' || level === 'raidz' ? 'raidz1' : level === 'raidz2' ? 'raidz2' : level === 'raidz3' ? 'raidz3' : 'stripe';
      if (!['mirror', 'raidz', 'raidz1', 'raidz2', 'raidz3', 'single', 'stripe'].includes(level)) {
        w.add(`${src}.raid_level`, `${JSON.stringify(level)} unknown; Phoenix striped such pools, and so does this spec`);
      }
      const disks = (strArray(p['disks']) ?? []).filter((d) => d.startsWith('/dev/'));
      if (disks.length === 0) {
        w.add(src, 'pool without /dev disks; dropped');
        return;
      }
      pools.push({ name, layout, disks });
    });
    zfs.pools = pools;
    const datasets: DatasetInput[] = [];
    (Array.isArray(zfsRaw['datasets']) ? zfsRaw['datasets'] : []).forEach((d, i) => {
      const src = `${F}:zfs.datasets.${i}`;
      if (!isObject(d)) return;
      const name = str(d['name']);
      const pool = str(d['pool']);
      if (!name || !pool) {
        w.add(src, 'dataset without name or pool; dropped');
        return;
      }
      const properties: Record<string, string> = {};
      for (const part of (str(d['properties']) ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
        const [k, ...v] = part.split('=');
        if (k && v.length > 0 && /^[a-z][a-z0-9_:.]*$/.test(k)) properties[k] = v.join('=');
        else w.add(`${src}.properties`, `${JSON.stringify(part)} is not prop=value; left out`);
      }
      const dataset: DatasetInput = { name: `${pool}/${name}`, properties };
      const type = str(d['proxmox_storage_type']);
      if (type === 'zfspool' || type === 'dir') {
        const content: StorageContentName[] = [];
        for (const c of (str(d['proxmox_content_type']) ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
          if ((STORAGE_CONTENT as readonly string[]).includes(c)) content.push(c as StorageContentName);
          else w.add(`${src}.proxmox_content_type`, `content type ${JSON.stringify(c)} unknown; left out`);
        }
        const id = storageIdFor(pool, name, overrides);
        if (content.length > 0 && storageIdSchema.safeParse(id).success) {
          dataset.storage = { id, type, content };
          derivedIds.add(id);
          datasetPaths.set(`/${pool}/${name}`, id);
        }
      } else if (type !== undefined) {
        w.add(`${src}.proxmox_storage_type`, `${JSON.stringify(type)} is neither zfspool nor dir; not registered as a storage`);
      }
      datasets.push(dataset);
    });
    zfs.datasets = datasets;
    if (zfsRaw['settings'] !== undefined) {
      w.add(`${F}:zfs.settings`, 'destructive-mode settings are a flag of the setup command, not part of a spec');
    }
    profile.zfs = zfs;
  }
  if (overrides) {
    for (const [key, value] of Object.entries(overrides)) {
      const v = str(value);
      const matches = zfsRaw && Array.isArray(zfsRaw['datasets'])
        ? zfsRaw['datasets'].some((d) => isObject(d) && `${str(d['pool'])}_${(str(d['name']) ?? '').replace(/-/g, '_')}` === key)
        : false;
      if (!matches && v !== undefined && !derivedIds.has(v)) {
        w.add(`${F}:proxmox_storage_ids.${key}`, `matches no dataset and names no storage a dataset gets (${v}); ignored`);
      }
    }
  }

  // NFS: every client gets every option (E1–E3 wrote "c1,c2(opts)", which exports(5) misreads)
  const nfsRaw = isObject(h['nfs']) ? h['nfs'] : undefined;
  const nfsServer = str(net?.['nfs_server']) ?? nodeAddress;
  if (nfsRaw) {
    const exportsOut: NonNullable<NonNullable<HostSetupInput['nfs']>['exports']> = [];
    const storages: NonNullable<HostSetupInput['storages']> = [];
    (Array.isArray(nfsRaw['exports']) ? nfsRaw['exports'] : []).forEach((e, i) => {
      const src = `${F}:nfs.exports.${i}`;
      if (!isObject(e)) return;
      const path = str(e['path']);
      const clients = strArray(e['clients']) ?? [];
      if (!path?.startsWith('/') || clients.length === 0) {
        w.add(src, 'export without an absolute path or clients; dropped');
        return;
      }
      const options = (strArray(e['options']) ?? []).filter((o) => /^[a-z_]+(=[A-Za-z0-9._-]+)?$/.test(o));
      exportsOut.push({ path, clients, options });
      const id = `nfs-${basename(path)}`;
      if (nfsServer && storageIdSchema.safeParse(id).success) {
        storages.push({
          id,
          type: 'nfs',
          server: nfsServer,
          export: path,
          content: ['images', 'iso', 'vztmpl', 'backup', 'snippets'],
          options: ['vers=4', 'soft', 'timeo=30', 'retrans=3'],
        });
      }
    });
    profile.nfs = { exports: exportsOut };
    profile.storages = storages;
  }

  // Samba: paths were relative; the options string was ignored by the script but meant
  const sambaRaw = isObject(h['samba']) ? h['samba'] : undefined;
  const users: NonNullable<HostSetupInput['users']> = [];
  if (sambaRaw) {
    const user = str(sambaRaw['user']);
    if (user && usernameSchema.safeParse(user).success) {
      const shares: NonNullable<NonNullable<HostSetupInput['samba']>['shares']> = [];
      (Array.isArray(sambaRaw['shares']) ? sambaRaw['shares'] : []).forEach((s, i) => {
        const src = `${F}:samba.shares.${i}`;
        if (!isObject(s)) return;
        const name = str(s['name']);
        const rel = str(s['path']);
        if (!name || !rel) {
          w.add(src, 'share without name or path; dropped');
          return;
        }
        const opts = new Map<string, string>();
        for (const m of (str(s['options']) ?? '').matchAll(/([A-Za-z ]+?)\s*=\s*(\S+)/g)) {
          opts.set((m[1] ?? '').trim().toLowerCase().replace(/\s+/g, ' '), (m[2] ?? '').toLowerCase());
        }
        const yes = (k: string): boolean | undefined => (opts.has(k) ? ['yes', 'true', '1'].includes(opts.get(k) ?? '') : undefined);
        const share: NonNullable<typeof shares>[number] = {
          name,
          path: rel.startsWith('/') ? rel : `/${rel}`,
          validUsers: (strArray(s['valid_users']) ?? []).filter((u) => usernameSchema.safeParse(u).success),
        };
        const browsable = bool(s['browsable']) ?? yes('browseable') ?? yes('browsable');
        if (browsable !== undefined) share.browsable = browsable;
        const writable = yes('writable') ?? yes('writeable');
        const readOnly = bool(s['read_only']) ?? yes('read only') ?? (writable === undefined ? undefined : !writable);
        if (readOnly !== undefined) share.readOnly = readOnly;
        const guestOk = bool(s['guest_ok']) ?? yes('guest ok');
        if (guestOk !== undefined) share.guestOk = guestOk;
        shares.push(share);
      });
      profile.samba = { user, shares };
      w.add(`${F}:samba`, 'the Samba password was hard-coded in the Phoenix script; set samba.passwordRef to a secret reference');
      users.push({ name: user });
    } else {
      w.add(`${F}:samba.user`, 'missing or not a Linux user name; Samba not imported');
    }
  }

  // The admin user (E1 also used it for idmaps)
  const u = isObject(h['users']) ? h['users'] : undefined;
  if (u) {
    const name = str(u['username']);
    if (name && usernameSchema.safeParse(name).success) {
      const entry: NonNullable<HostSetupInput['users']>[number] = { name, proxmoxRole: 'Administrator' };
      const sudo = bool(u['sudo_access']);
      if (sudo !== undefined) entry.sudo = sudo;
      const key = str(u['ssh_public_key']);
      if (key) entry.sshPublicKeys = [key];
      const hash = str(u['password_hash']);
      if (hash && hash !== 'NOT_SET') {
        w.add(`${F}:users.password_hash`, 'password hash not copied into the spec; store it in the secret store and set passwordHashRef');
      }
      users.unshift(entry);
    }
  }
  if (users.length > 0) profile.users = users;

  // NVIDIA
  const nv = isObject(h['nvidia_driver']) ? h['nvidia_driver'] : undefined;
  if (nv) {
    const version = str(nv['version']);
    if (version && /^\d+\.\d+(\.\d+)?$/.test(version)) {
      const nvidia: NonNullable<HostSetupInput['nvidia']> = { driverVersion: version };
      const install = bool(nv['install']);
      if (install !== undefined) nvidia.install = install;
      const url = str(nv['runfile_url']);
      if (url) nvidia.runfileUrl = url;
      const cuda = str(nv['cuda_version']);
      if (cuda && /^\d+\.\d+$/.test(cuda)) nvidia.cudaVersion = cuda;
      profile.nvidia = nvidia;
      ctx.hostDriverVersion = version;
    }
    if (nv['install_vllm_libs'] !== undefined) w.add(`${F}:nvidia_driver.install_vllm_libs`, 'informational in Phoenix; not imported');
  }

  // Firewall: E4 keeps it under shared_volumes, E1–E3 looked for it at the top (and found nothing)
  const shared = isObject(h['shared_volumes']) ? h['shared_volumes'] : undefined;
  const fwTop = isObject(h['firewall']) ? h['firewall'] : undefined;
  const fwNested = shared && isObject(shared['firewall']) ? shared['firewall'] : undefined;
  if (fwTop && fwNested) w.add(`${F}:firewall`, 'firewall given twice (top level and shared_volumes.firewall); using shared_volumes.firewall');
  const fw = fwNested ?? fwTop;
  if (fw) {
    const src = fwNested ? `${F}:shared_volumes.firewall` : `${F}:firewall`;
    const policy = (v: unknown): 'ACCEPT' | 'DROP' | 'REJECT' | undefined => {
      const p = str(v)?.toUpperCase();
      return p === 'ACCEPT' || p === 'DROP' || p === 'REJECT' ? p : undefined;
    };
    const firewall: NonNullable<HostSetupInput['firewall']> = {
      rules: firewallRules(fw['global_firewall_rules'] ?? fw['rules'], `${src}.global_firewall_rules`, w),
    };
    const enabled = bool(fw['enabled']);
    if (enabled !== undefined) firewall.enabled = enabled;
    const pin = policy(fw['default_input_policy']);
    if (pin) firewall.policyIn = pin;
    const pout = policy(fw['default_output_policy']);
    if (pout) firewall.policyOut = pout;
    profile.firewall = firewall;
  }

  // Shared volumes (E1 bind-mounted them into the listed containers)
  const sharedVolumes: { name: string; hostPath: string; mounts: Record<string, string> }[] = [];
  if (shared) {
    for (const [name, vol] of Object.entries(shared)) {
      if (name === 'firewall' || !isObject(vol)) continue;
      const hostPath = str(vol['host_path']);
      const mounts: Record<string, string> = {};
      if (isObject(vol['mounts'])) for (const [id, p] of Object.entries(vol['mounts'])) if (str(p)) mounts[id] = str(p) as string;
      if (hostPath?.startsWith('/')) sharedVolumes.push({ name, hostPath, mounts });
      else w.add(`${F}:shared_volumes.${name}`, 'no absolute host_path; ignored');
    }
  }

  // DNS server (E4 dnsmasq on the host)
  const dnsRaw = isObject(h['dns_server']) ? h['dns_server'] : undefined;
  if (dnsRaw) {
    const dns: NonNullable<HostSetupInput['dns']> = {
      upstreams: (strArray(dnsRaw['upstream_servers']) ?? []).filter((x) => ipv4Schema.safeParse(x).success),
      zones: strArray(dnsRaw['authoritative_zones']) ?? [],
    };
    const enabled = bool(dnsRaw['enabled']);
    if (enabled !== undefined) dns.enabled = enabled;
    profile.dns = dns;
  }

  // The spec never promises more than node setup does: name each imported field it leaves undone.
  const sourceOf: Record<string, string> = {
    timezone: 'timezone',
    network: 'network',
    samba: 'samba',
    users: 'users',
    nvidia: 'nvidia_driver',
    firewall: fwNested ? 'shared_volumes.firewall' : 'firewall',
    dns: 'dns_server',
  };
  for (const { field, message } of hostFieldsNotCarriedOut(profile)) {
    w.add(`${F}:${sourceOf[field] ?? field}`, `imported as hostProfiles.${nodeName}.${field}, but ${message}`);
  }

  const vmDefaults = isObject(h['vm_defaults']) ? h['vm_defaults'] : undefined;
  return {
    profile,
    nodeName,
    nodeAddress,
    domain: str(h['domain_name']),
    sharedVolumes,
    datasetPaths,
    ubuntuRelease: str(vmDefaults?.['ubuntu_release']),
  };
}
