/**
 * `phoenix import proxshift <inventory> [--site <site-config>]`: a ProxShift Ansible inventory
 * (`all.children.clusters.children.<cluster>`, one host per OpenShift node, docs/reference/phoenix-proxshift.md §3.2) and its site
 * config (§3.3) → OpenShift clusters of a spec. Roles are positional (the first 1 or 3 hosts are
 * control plane), node IPs are base_ip + position, secrets stay in Vault and become references.
 *
 * A host listed in two clusters is one Ansible host whose last definition silently won. Here it
 * stays in the first cluster that lists it, with that cluster's values, and is left out of the
 * others with a warning; `strictSharedHosts` makes it an error instead.
 */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { InvalidArgumentError, cidrSchema, ipv4Schema, macSchema, nodeNameSchema, storageIdSchema } from '@phoenix/shared';
import { AGENT_INSTALLER_MINIMUM, OPENSHIFT_CLUSTER_NAME, type openshiftClusterSchema } from '../../spec/openshift.js';
import type { SpecInput } from '../../spec/spec.js';
import { intToIp, ipToInt, parseCidr, inSubnet } from '../../spec/ip.js';
import { parseYamlText } from '../../spec/load.js';
import { validatedOutput } from '../output.js';
import { int, isObject, str, strArray, type JsonObject } from '../util.js';
import { Warnings } from '../warnings.js';
import type { ImportResult } from '../phoenix/index.js';

type ClusterInput = z.input<typeof openshiftClusterSchema>;
type NodeInput = ClusterInput['nodes'][number];
type SecretRefInput = ClusterInput['pullSecret'];

export interface ProxShiftImportOptions {
  readonly site?: string | undefined;
  readonly cluster?: string | undefined;
  /** Fail (exit 2) on a host listed in two clusters instead of keeping it in the first. */
  readonly strictSharedHosts?: boolean | undefined;
}

const CLUSTER_VARS = new Set(['cluster_type', 'base_ip', 'api_vip', 'ingress_vip', 'ocp_version']);
const HOST_KEYS = new Set([
  'pve_node',
  'node',
  'vmid',
  'memory',
  'cores',
  'sockets',
  'cpu',
  'boot',
  'onboot',
  'ostype',
  'iso_image',
  'scsihw',
  'numa',
  'wwn',
  'disks',
  'nics',
]);
const NOT_CARRIED: Readonly<Record<string, string>> = {
  boot: 'boot order is fixed (disk, then the agent ISO)',
  iso_image: 'the agent ISO is built and attached by the OpenShift module',
  scsihw: 'not passed by site.yaml either',
  numa: 'not passed by site.yaml either',
  ostype: 'always l26',
};

interface HostEntry {
  readonly cluster: string;
  readonly name: string;
  readonly position: number;
  readonly vars: JsonObject;
}

export async function importProxShift(inventoryPath: string, options: ProxShiftImportOptions = {}): Promise<ImportResult> {
  const w = new Warnings();
  const inventory = await readYaml(inventoryPath, 'inventory');
  const site = options.site !== undefined ? await readYaml(options.site, 'site') : undefined;
  const F = 'inventory';

  const groups = clusterGroups(inventory, w);
  if (groups.length === 0) {
    throw new InvalidArgumentError('inventory', inventoryPath, 'no clusters found under all.children.clusters.children');
  }

  // Where each host is listed: the first listing wins.
  const firstListing = new Map<string, string>();
  for (const [cluster, group] of groups) {
    for (const host of Object.keys(isObject(group['hosts']) ? group['hosts'] : {})) {
      const first = firstListing.get(host);
      if (first === undefined) firstListing.set(host, cluster);
      else if (first !== cluster) {
        const message = `host ${host} is listed in clusters ${first} and ${cluster}; ProxShift used the last definition for both`;
        if (options.strictSharedHosts) throw new InvalidArgumentError(`${F}:${cluster}.hosts.${host}`, host, message);
        w.add(`${F}:${cluster}.hosts.${host}`, `${message}. Kept in ${first} only; ${cluster} is imported without it`);
      }
    }
  }

  const net = siteNetwork(site, w);
  const refs = secretRefs(site, w);
  const hub = str(site?.['hub_cluster']);
  if (site) {
    for (const key of ['ocp_installer_path', 'iso_boot_path', 'ocp_iso_image', 'cluster_marker', 'gitops_root', 'backup_secrets', 'backup_dir', 'hub_cluster_api_url', 'iso_path_user', 'iso_path_pass']) {
      if (site[key] !== undefined) w.add(`site:${key}`, 'workstation/ACM/GitOps setting of ProxShift; not part of the spec');
    }
    if (site['vault_path'] !== undefined) w.add('site:vault_path', 'the credentials file is never read; secrets are referenced in Vault');
    for (const key of Object.keys(site)) {
      if (!['vault_path', 'ocp_installer_path', 'iso_boot_path', 'hub_cluster', 'hub_cluster_api_url', 'ocp_iso_image', 'cluster_marker', 'gitops_root', 'backup_secrets', 'backup_dir', 'vault_items', 'network_defaults', 'iso_path_user', 'iso_path_pass'].includes(key)) {
        w.add(`site:${key}`, 'unknown key; ignored');
      }
    }
  }

  const clusters: ClusterInput[] = [];
  const notCarried = new Map<string, number>();
  const pveNodes = new Set<string>();
  const vmids = new Map<number, string>();
  const macs = new Map<string, string>();
  for (const [name, group] of groups) {
    const src = `${F}:${name}`;
    const clusterName = name.toLowerCase().replace(/[^a-z0-9-]/g, '-');
    if (!OPENSHIFT_CLUSTER_NAME.test(clusterName)) {
      w.add(src, 'cluster name is not a DNS label; cluster skipped');
      continue;
    }
    if (!/^(ocp|ocp-)/.test(name)) w.add(src, 'ProxShift only accepted cluster names starting with "ocp"');
    const vars = isObject(group['vars']) ? group['vars'] : {};
    for (const key of Object.keys(vars)) if (!CLUSTER_VARS.has(key)) w.add(`${src}.vars.${key}`, 'unknown cluster variable; ignored');
    const hostsObj = isObject(group['hosts']) ? group['hosts'] : {};
    const hosts: HostEntry[] = Object.entries(hostsObj).map(([host, hv], position) => ({
      cluster: name,
      name: host,
      position,
      vars: isObject(hv) ? hv : {},
    }));
    const built = buildCluster(clusterName, name, vars, hosts, firstListing, net, refs, w, notCarried);
    if (!built) continue;
    if (hub !== undefined && hub === name) built.hub = true;
    for (const n of built.nodes) {
      if (n.placement?.node !== undefined) pveNodes.add(n.placement.node);
      if (n.vmid !== undefined) {
        const other = vmids.get(n.vmid);
        if (other !== undefined) {
          w.add(`${src}.hosts.${n.name}.vmid`, `${n.vmid} is also ${other}'s; left out, a VMID will be allocated`);
          delete n.vmid;
        } else vmids.set(n.vmid, n.name);
      }
      if (n.mac !== undefined) {
        const other = macs.get(n.mac.toLowerCase());
        if (other !== undefined) {
          w.add(`${src}.hosts.${n.name}.nics.net0.mac`, `${n.mac} is also ${other}'s; left out, a MAC will be allocated`);
          delete n.mac;
        } else macs.set(n.mac.toLowerCase(), n.name);
      }
    }
    clusters.push(built);
  }
  if (hub !== undefined && !groups.some(([n]) => n === hub)) w.add('site:hub_cluster', `${hub} is not a cluster of the inventory`);
  for (const [key, count] of notCarried) w.add(`${F}:hosts.*.${key}`, `not imported (${count} host${count === 1 ? '' : 's'}): ${NOT_CARRIED[key]}`);

  const raw: SpecInput = {
    version: 1,
    cluster: { name: options.cluster ?? 'proxshift' },
    nodes: [...pveNodes].sort().map((n) => ({ name: n })),
    openshift: clusters,
  };
  const spec = validatedOutput(raw);
  const summary = `Imported from a ProxShift inventory${site ? ' and site config' : ''}: ${clusters.length} OpenShift clusters, ${clusters.reduce((a, c) => a + c.nodes.length, 0)} nodes`;
  return { spec, warnings: w.list, summary };
}

async function readYaml(path: string, field: string): Promise<JsonObject> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new InvalidArgumentError(field, path, 'cannot read', { cause });
  }
  const data = parseYamlText(text, path);
  if (!isObject(data)) throw new InvalidArgumentError(field, path, 'must hold a YAML mapping');
  return data;
}

function clusterGroups(inventory: JsonObject, w: Warnings): [string, JsonObject][] {
  const all = isObject(inventory['all']) ? inventory['all'] : inventory;
  const children = isObject(all['children']) ? all['children'] : {};
  const clusters = isObject(children['clusters']) ? children['clusters'] : undefined;
  const groups = isObject(clusters?.['children']) ? clusters['children'] : undefined;
  if (groups) {
    return Object.entries(groups).filter((e): e is [string, JsonObject] => {
      if (isObject(e[1])) return true;
      w.add(`inventory:${e[0]}`, 'cluster group is empty; skipped');
      return false;
    });
  }
  // Without the clusters group, take ocp* groups directly under all.children.
  const direct = Object.entries(children).filter((e): e is [string, JsonObject] => /^(ocp|ocp-)/.test(e[0]) && isObject(e[1]));
  if (direct.length > 0) w.add('inventory:all.children', 'no "clusters" group; using the ocp* groups found here');
  return direct;
}

interface SiteNetwork {
  readonly baseDomain: string;
  readonly machineCidr: string | undefined;
  readonly gateway: string | undefined;
  readonly nameservers: string[];
  readonly interface: string | undefined;
  readonly clusterCidr: string | undefined;
  readonly serviceCidr: string | undefined;
  readonly fromSite: boolean;
}

function siteNetwork(site: JsonObject | undefined, w: Warnings): SiteNetwork {
  const nd = isObject(site?.['network_defaults']) ? site['network_defaults'] : undefined;
  if (!nd) {
    w.add(
      'site:network_defaults',
      site ? 'missing: base domain, subnet, gateway and DNS are placeholders' : 'no site config: base domain, subnet, gateway and DNS are placeholders (lab.invalid, the /24 of each cluster)',
    );
  }
  const cidr = (v: unknown): string | undefined => {
    const s = str(v);
    return s && cidrSchema.safeParse(s).success ? s : undefined;
  };
  const ip = (v: unknown): string | undefined => {
    const s = str(v);
    return s && ipv4Schema.safeParse(s).success ? s : undefined;
  };
  const iface = str(nd?.['interface_name']);
  return {
    baseDomain: str(nd?.['base_domain']) ?? 'lab.invalid',
    machineCidr: cidr(nd?.['subnet']),
    gateway: ip(nd?.['gateway']),
    nameservers: (strArray(nd?.['dns_servers']) ?? []).filter((x) => ipv4Schema.safeParse(x).success),
    interface: iface && /^[a-z][a-z0-9]{0,14}$/.test(iface) ? iface : undefined,
    clusterCidr: cidr(nd?.['cluster_cidr']),
    serviceCidr: cidr(nd?.['service_cidr']),
    fromSite: nd !== undefined,
  };
}

function secretRefs(site: JsonObject | undefined, w: Warnings): { pull: SecretRefInput; ssh: SecretRefInput; bundle: SecretRefInput | undefined } {
  const items = Array.isArray(site?.['vault_items']) ? site['vault_items'] : [];
  const find = (name: string): SecretRefInput | undefined => {
    const item = items.find((i) => isObject(i) && str(i['name']) === name);
    if (!isObject(item)) return undefined;
    const path = str(item['path']);
    if (!path) return undefined;
    const key = str(item['key']);
    return { store: 'vault', path, ...(key ? { key } : {}) };
  };
  const pull = find('pull-secret');
  const ssh = find('ssh-key');
  if (!pull) w.add('site:vault_items', 'no pull-secret item: placeholder reference vault secrets/data/openshift/pullsecret#secret');
  if (!ssh) w.add('site:vault_items', 'no ssh-key item: placeholder reference vault secrets/data/openshift/ssh-key#key');
  return {
    pull: pull ?? { store: 'vault', path: 'secrets/data/openshift/pullsecret', key: 'secret' },
    ssh: ssh ?? { store: 'vault', path: 'secrets/data/openshift/ssh-key', key: 'key' },
    bundle: find('cert-bundle'),
  };
}

interface HostSize {
  cores: number | undefined;
  memoryMiB: number | undefined;
  diskGiB: number | undefined;
  storage: string | undefined;
  sockets: number | undefined;
  extraDisks: { sizeGiB: number; storage?: string; wwn?: string }[];
}

function buildCluster(
  clusterName: string,
  name: string,
  vars: JsonObject,
  hosts: readonly HostEntry[],
  firstListing: ReadonlyMap<string, string>,
  net: SiteNetwork,
  refs: ReturnType<typeof secretRefs>,
  w: Warnings,
  notCarried: Map<string, number>,
): ClusterInput | undefined {
  const src = `inventory:${name}`;
  const type = str(vars['cluster_type']) ?? (hosts.length === 1 ? 'sno' : 'multi_node');
  const sno = type === 'sno';
  if (type !== 'sno' && type !== 'multi_node') w.add(`${src}.vars.cluster_type`, `${JSON.stringify(type)} unknown; read as multi_node`);
  const masters = sno ? 1 : 3;
  const baseIp = str(vars['base_ip']);
  const base = baseIp && ipv4Schema.safeParse(baseIp).success ? ipToInt(baseIp) : undefined;
  if (baseIp === undefined || base === undefined) w.add(`${src}.vars.base_ip`, 'missing or invalid: node IPs are left to allocation');

  // Roles and addresses come from each host's position in this cluster's listing.
  const dropped = new Set<string>();
  const nodes: (NodeInput & { size: HostSize })[] = [];
  for (const h of hosts) {
    if (firstListing.get(h.name) !== name) {
      dropped.add(h.name);
      continue;
    }
    const hs = `${src}.hosts.${h.name}`;
    if (!nodeNameSchema.safeParse(h.name).success) {
      w.add(hs, 'host name is not a DNS label; host skipped');
      dropped.add(h.name);
      continue;
    }
    const v = h.vars;
    for (const key of Object.keys(v)) {
      if (!HOST_KEYS.has(key)) w.add(`${hs}.${key}`, 'unknown host variable; ignored');
      else if (Object.hasOwn(NOT_CARRIED, key)) notCarried.set(key, (notCarried.get(key) ?? 0) + 1);
    }
    const role = h.position < masters ? 'control-plane' : 'worker';
    const node: NodeInput & { size: HostSize } = {
      name: h.name,
      role,
      size: atLeastMinimum(hostSize(v, hs, w), role, sno, hs, w),
    };
    const onBoot = flag(v['onboot']);
    if (onBoot === false) node.onBoot = false; // ProxShift's default, like Phoenix's, is true
    else if (onBoot === undefined && v['onboot'] !== undefined) w.add(`${hs}.onboot`, `${JSON.stringify(v['onboot'])} is not a boolean; started on boot`);
    const pve = str(v['pve_node']) ?? str(v['node']);
    if (pve && nodeNameSchema.safeParse(pve).success) node.placement = { node: pve };
    else w.add(hs, 'no pve_node: placement is left to the scheduler');
    const vmid = int(v['vmid']);
    if (vmid !== undefined && vmid >= 100) node.vmid = vmid;
    else w.add(`${hs}.vmid`, 'missing or invalid: a VMID will be allocated');
    const cpu = str(v['cpu']);
    if (cpu !== undefined && cpu !== 'host') w.add(`${hs}.cpu`, `CPU type ${cpu} not imported: OpenShift nodes use host`);
    const wwn = str(v['wwn']);
    if (wwn && /^0x[0-9a-fA-F]{16}$/.test(wwn)) node.rootDeviceWwn = wwn;
    const nics = isObject(v['nics']) ? v['nics'] : {};
    const net0 = isObject(nics['net0']) ? nics['net0'] : undefined;
    const mac = str(net0?.['mac']);
    if (mac && macSchema.safeParse(mac).success) node.mac = mac.toUpperCase();
    else w.add(`${hs}.nics.net0.mac`, mac ? `${JSON.stringify(mac)} is not a unicast MAC; one will be allocated` : 'missing (ProxShift required it); a MAC will be allocated');
    for (const nic of Object.keys(nics)) if (nic !== 'net0') w.add(`${hs}.nics.${nic}`, 'only net0 is imported');
    if (base !== undefined) {
      const ipInt = base + h.position;
      if ((ipInt & 255) === 255 || (ipInt & 255) === 0 || ipInt > 0xffffffff) {
        w.add(`${hs}`, `base_ip + ${h.position} leaves the /24 (ProxShift did not check); IP left to allocation`);
      } else node.ip = intToIp(ipInt);
    }
    nodes.push(node);
  }

  let cp = nodes.filter((n) => n.role === 'control-plane');
  let workers = nodes.filter((n) => n.role === 'worker');
  if (sno && workers.length > 0) {
    w.add(src, `a single-node cluster with ${nodes.length} hosts: only ${cp[0]?.name ?? 'the first'} is imported`);
    workers = [];
  }
  if (cp.length !== masters) {
    w.add(src, `needs ${masters} control-plane host(s) in the first positions, has ${cp.length}${dropped.size ? ` after leaving out ${[...dropped].join(', ')}` : ''}; cluster skipped`);
    return undefined;
  }
  cp = cp.slice(0, masters);
  // Control-plane nodes of one cluster must be on distinct Proxmox nodes.
  const pinnedBy = new Map<string, string>();
  for (const n of cp) {
    const pve = n.placement?.node;
    if (pve === undefined) continue;
    const other = pinnedBy.get(pve);
    if (other !== undefined) {
      w.add(`${src}.hosts.${n.name}.pve_node`, `${other} and ${n.name} are control-plane nodes on ${pve}; ${n.name} is unpinned so the scheduler puts it on another node`);
      delete n.placement;
    } else pinnedBy.set(pve, n.name);
  }
  const topology: ClusterInput['topology'] = sno ? 'sno' : workers.length === 0 ? 'compact' : 'multi-node';
  if (!sno && workers.length === 0) w.add(src, `${cp.length} control-plane nodes and no workers: a compact cluster`);

  // Network: the site's subnet, else the /24 around base_ip.
  const machineCidr = net.machineCidr ?? (baseIp && base !== undefined ? `${intToIp(base & 0xffffff00)}/24` : '192.168.0.0/24');
  const subnet = parseCidr(machineCidr);
  const gateway = net.gateway ?? intToIp((subnet.network | 1) >>> 0);
  const nameservers = net.nameservers.length > 0 ? net.nameservers : [gateway];
  for (const n of [...cp, ...workers]) {
    if (n.ip !== undefined && !inSubnet(n.ip, subnet)) {
      w.add(`${src}.hosts.${n.name}`, `IP ${n.ip} is outside ${machineCidr}; left to allocation`);
      delete n.ip;
    }
    if (n.ip !== undefined && net.nameservers.includes(n.ip)) {
      w.add(`${src}.hosts.${n.name}`, `IP ${n.ip} is also a DNS server of network_defaults`);
    }
  }
  const bridges = new Set<string>();
  const vlans = new Set<number>();
  for (const h of hosts) {
    const nics = isObject(h.vars['nics']) ? h.vars['nics'] : {};
    const n0 = isObject(nics['net0']) ? nics['net0'] : undefined;
    const b = str(n0?.['bridge']);
    if (b) bridges.add(b);
    const t = int(n0?.['tag']);
    if (t !== undefined) vlans.add(t);
  }
  if (bridges.size > 1 || vlans.size > 1) w.add(src, 'hosts differ in bridge or VLAN; the first one is used for all');

  const cluster: ClusterInput = {
    name: clusterName,
    topology,
    baseDomain: net.baseDomain,
    version: str(vars['ocp_version']) ?? '4.19.1',
    network: {
      machineCidr,
      gateway,
      nameservers,
      ...(net.interface ? { interface: net.interface } : {}),
      ...(bridges.size > 0 ? { bridge: [...bridges][0] as string } : {}),
      ...(vlans.size > 0 ? { vlan: [...vlans][0] as number } : {}),
      ...(net.clusterCidr ? { clusterCidr: net.clusterCidr } : {}),
      ...(net.serviceCidr ? { serviceCidr: net.serviceCidr } : {}),
    },
    roles: { controlPlane: roleSize(cp) },
    nodes: [],
    pullSecret: refs.pull,
    sshKey: refs.ssh,
    ...(refs.bundle ? { trustBundle: refs.bundle } : {}),
  };
  if (str(vars['ocp_version']) === undefined) w.add(`${src}.vars.ocp_version`, 'missing; 4.19.1 assumed');
  if (workers.length > 0) cluster.roles.worker = roleSize(workers);
  if (!sno) {
    for (const [key, vip] of [['apiVip', 'api_vip'], ['ingressVip', 'ingress_vip']] as const) {
      const v = str(vars[vip]);
      if (v && ipv4Schema.safeParse(v).success) cluster[key] = v;
      else w.add(`${src}.vars.${vip}`, 'missing or invalid for a multi-node cluster');
    }
  } else {
    for (const vip of ['api_vip', 'ingress_vip']) if (vars[vip] !== undefined) w.add(`${src}.vars.${vip}`, 'not used by a single-node cluster');
  }
  const isoStorage = hosts.map((h) => str(h.vars['iso_image'])?.split(':')[0]).find((s) => s && storageIdSchema.safeParse(s).success);
  if (isoStorage) cluster.isoStorage = isoStorage;
  for (const group of [cp, workers]) {
    const role = group === cp ? cluster.roles.controlPlane : cluster.roles.worker;
    for (const n of group) cluster.nodes.push(withOverrides(n, role));
  }
  const order = ['name', 'topology', 'baseDomain', 'version', 'apiVip', 'ingressVip', 'network', 'roles', 'nodes', 'pullSecret', 'sshKey', 'trustBundle', 'isoStorage', 'hub'];
  const sorted: Record<string, unknown> = {};
  for (const k of order) if (k in cluster) sorted[k] = (cluster as Record<string, unknown>)[k];
  return sorted as ClusterInput;
}

function hostSize(v: JsonObject, src: string, w: Warnings): HostSize {
  const disks = isObject(v['disks']) ? v['disks'] : {};
  const names = Object.keys(disks).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  let diskGiB: number | undefined;
  let storage: string | undefined;
  const extraDisks: HostSize['extraDisks'] = [];
  for (const d of names) {
    const disk = isObject(disks[d]) ? disks[d] : {};
    const size = int(disk['size']);
    const st = str(disk['storage']);
    const okStorage = st && storageIdSchema.safeParse(st).success ? st : undefined;
    if (size === undefined || size < 1) {
      w.add(`${src}.disks.${d}`, 'no size (ProxShift asserted one); disk skipped');
      continue;
    }
    if (diskGiB === undefined && d === (names[0] ?? 'scsi0')) {
      diskGiB = size;
      storage = okStorage;
    } else {
      const wwn = str(disk['wwn']);
      extraDisks.push({ sizeGiB: size, ...(okStorage ? { storage: okStorage } : {}), ...(wwn && /^0x[0-9a-fA-F]{16}$/.test(wwn) ? { wwn } : {}) });
    }
  }
  return {
    cores: int(v['cores']) ?? 2,
    memoryMiB: int(v['memory']),
    diskGiB,
    storage,
    sockets: int(v['sockets']),
    extraDisks,
  };
}

/** An Ansible boolean (1/0, true/false, yes/no); undefined when absent or unreadable. */
function flag(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  const s = typeof v === 'string' ? v.trim().toLowerCase() : undefined;
  if (s === undefined) return undefined;
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  return undefined;
}

/**
 * The installer refuses nodes below its documented minimum, so a smaller ProxShift host (its own
 * example has 100 GB control-plane disks) is raised to it, with a warning naming the host.
 */
function atLeastMinimum(size: HostSize, role: 'control-plane' | 'worker', sno: boolean, src: string, w: Warnings): HostSize {
  const min = AGENT_INSTALLER_MINIMUM[role];
  const what = role === 'worker' ? 'a worker' : sno ? 'a single-node cluster' : 'a control-plane node';
  const out = { ...size };
  const sockets = size.sockets ?? 1;
  if (size.cores !== undefined && size.cores * sockets < min.vcpus) {
    out.cores = Math.ceil(min.vcpus / sockets);
    w.add(`${src}.cores`, `${size.cores * sockets} vCPUs is below the agent-based installer's minimum of ${min.vcpus} for ${what}; raised to ${out.cores * sockets}`);
  }
  if (size.memoryMiB !== undefined && size.memoryMiB < min.memoryMiB) {
    out.memoryMiB = min.memoryMiB;
    w.add(`${src}.memory`, `${size.memoryMiB} MB is below the agent-based installer's minimum of ${min.memoryMiB} for ${what}; raised to it`);
  }
  if (size.diskGiB !== undefined && size.diskGiB < min.diskGiB) {
    out.diskGiB = min.diskGiB;
    w.add(`${src}.disks`, `a ${size.diskGiB} GB root disk is below the agent-based installer's minimum of ${min.diskGiB} GB for ${what}; raised to it`);
  }
  return out;
}

/** The role size is the first node's; other nodes carry only where they differ. */
function roleSize(group: readonly { size: HostSize }[]): ClusterInput['roles']['controlPlane'] {
  const s = (group[0] as { size: HostSize }).size;
  return {
    cores: s.cores ?? 2,
    memoryMiB: s.memoryMiB ?? 16384,
    diskGiB: s.diskGiB ?? 120,
    ...(s.storage ? { storage: s.storage } : {}),
    ...(s.sockets !== undefined && s.sockets !== 1 ? { sockets: s.sockets } : {}),
    ...(s.extraDisks.length > 0 ? { extraDisks: s.extraDisks } : {}),
  };
}

function withOverrides(n: NodeInput & { size: HostSize }, role: ClusterInput['roles']['controlPlane'] | undefined): NodeInput {
  const { size, ...node } = n;
  const r = role ?? { cores: 0, memoryMiB: 0, diskGiB: 0 };
  const out: NodeInput = { ...node };
  if (size.cores !== undefined && size.cores !== r.cores) out.cores = size.cores;
  if (size.memoryMiB !== undefined && size.memoryMiB !== r.memoryMiB) out.memoryMiB = size.memoryMiB;
  if (size.diskGiB !== undefined && size.diskGiB !== r.diskGiB) out.diskGiB = size.diskGiB;
  if (size.storage !== undefined && size.storage !== r.storage) out.storage = size.storage;
  if (size.sockets !== undefined && size.sockets !== (r.sockets ?? 1)) out.sockets = size.sockets;
  if (JSON.stringify(size.extraDisks) !== JSON.stringify(r.extraDisks ?? [])) out.extraDisks = size.extraDisks;
  // keep a stable, readable key order
  const order = ['name', 'role', 'vmid', 'mac', 'ip', 'cores', 'sockets', 'memoryMiB', 'diskGiB', 'storage', 'extraDisks', 'rootDeviceWwn', 'onBoot', 'placement'];
  const sorted: Record<string, unknown> = {};
  for (const k of order) if (k in out) sorted[k] = (out as Record<string, unknown>)[k];
  return sorted as NodeInput;
}
