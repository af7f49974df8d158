/**
 * A node's host profile, plus what the spec's containers need from any host they may run on,
 * → the agent's HostSpec. Pure. Fields of the profile this setup does not carry out are returned as
 * warnings naming the field, so the spec never promises more than the system does.
 */
import type { agentv1 } from '@phoenix/shared';
import { PHOENIX_APPARMOR, STOCK_APPARMOR } from '../host-setup/apparmor-library.js';
import type { CompiledSpec } from './compile.js';
import type { HostSetup } from './host.js';
import { compileFirewall } from './host-firewall.js';

export interface HostCompileIssue {
  path: string;
  message: string;
}

export interface CompiledHost {
  node: string;
  profile: string | undefined;
  spec: agentv1.HostSpec;
  /** Profile fields left undone, or carried out with something added (named by path). */
  warnings: HostCompileIssue[];
  /** What makes the profile impossible or unsafe to carry out (an AppArmor profile no one provides, a firewall that locks the node out). */
  errors: HostCompileIssue[];
}

/** Unprivileged containers' ids start here on the host (PVE's default map u/g 0 100000 65536). */
export const ID_OFFSET = 100000;
const ID_RANGE = 65536;
const GIB = 1024 ** 3;

/** Phoenix's pool creation flags (`zpool create -o autotrim=on -O compression=lz4 -O atime=off`). */
const POOL_PROPERTIES = { autotrim: 'on' };
const POOL_FS_PROPERTIES = { compression: 'lz4', atime: 'off' };

/** Host profile fields host setup does not carry out (yet); each becomes a warning when set. */
const NOT_CARRIED_OUT: ReadonlyArray<[keyof HostSetup, string]> = [
  ['timezone', 'the timezone is not set by node setup'],
  ['network', 'host networking (bridges, addresses, resolvers) is left as the node has it'],
  ['samba', 'Samba shares and users are not set up by node setup'],
  ['users', 'host users, sudo and Proxmox ACLs are not set up by node setup'],
  ['nvidia', 'the NVIDIA host driver is neither checked nor installed by node setup'],
  ['dns', 'the host DNS server (dnsmasq) is not set up by node setup'],
];

export function compileHost(spec: CompiledSpec, nodeName: string): CompiledHost {
  const node = spec.nodes.find((n) => n.name === nodeName);
  const profileName = node?.hostProfile;
  const profile = profileName === undefined ? undefined : spec.hostProfiles[profileName];
  const base = `hostProfiles.${profileName ?? ''}`;
  const warnings: HostCompileIssue[] = [];
  const errors: HostCompileIssue[] = [];
  const out: agentv1.HostSpec = {
    pools: [],
    datasets: [],
    arcMaxBytes: 0,
    storages: [],
    apparmorProfiles: [],
    subIds: [],
    directories: [],
    nfsExports: [],
    firewall: undefined,
  };

  if (profile) {
    for (const { field, message } of hostFieldsNotCarriedOut(profile)) warnings.push({ path: `${base}.${field}`, message });
    for (const p of profile.zfs?.pools ?? []) {
      out.pools.push({
        name: p.name,
        layout: p.layout,
        disks: [...p.disks],
        allowDestructive: p.allowDestructive,
        poolProperties: { ...POOL_PROPERTIES },
        fsProperties: { ...POOL_FS_PROPERTIES },
      });
    }
    if (profile.zfs?.arcMaxGiB !== undefined) out.arcMaxBytes = profile.zfs.arcMaxGiB * GIB;
    for (const ds of profile.zfs?.datasets ?? []) {
      out.datasets.push({ name: ds.name, properties: { ...ds.properties } });
      const st = ds.storage;
      if (!st) continue;
      // A dataset mounts at /<pool>/<name>; a dir storage on it must not create that path itself.
      const options: Record<string, string> = st.type === 'zfspool' ? { pool: ds.name } : { path: `/${ds.name}`, 'create-base-path': '0' };
      out.storages.push({ id: st.id, type: st.type, content: [...st.content], options });
    }
    for (const s of profile.storages) {
      const options: Record<string, string> = { server: s.server, export: s.export };
      if (s.options.length > 0) options['options'] = s.options.join(',');
      out.storages.push({ id: s.id, type: 'nfs', content: [...s.content], options });
    }
    for (const e of profile.nfs?.exports ?? []) out.nfsExports.push({ path: e.path, clients: [...e.clients], options: [...e.options] });
    const fw = compileFirewall(spec, nodeName, profileName ?? '', profile);
    out.firewall = fw.firewall;
    warnings.push(...fw.warnings);
    errors.push(...fw.errors);
  }

  // What containers need from every host they may land on.
  const own = new Map((profile?.apparmorProfiles ?? []).map((p) => [p.name, p.content]));
  const profiles = new Map<string, string>();
  const ranges = new Map<string, agentv1.SubIdRange>();
  const dirs = new Map<string, agentv1.HostDirectory>();
  const addRange = (kind: 'u' | 'g', start: number, count: number): void => {
    ranges.set(`${kind}:${start}:${count}`, { kind, user: 'root', start, count });
  };
  for (const g of spec.guests) {
    if (g.kind !== 'container') continue;
    if (g.placement.node !== undefined && g.placement.node !== nodeName) continue;
    const src = g.lxc;
    const name = src.apparmor?.profile;
    if (name !== undefined && !STOCK_APPARMOR.has(name) && !profiles.has(name)) {
      const content = own.get(name) ?? PHOENIX_APPARMOR[name];
      if (content === undefined) {
        errors.push({ path: `${g.path}.apparmor.profile`, message: `AppArmor profile ${name} is neither stock, built in, nor in ${base}.apparmorProfiles` });
      } else profiles.set(name, content);
    }
    const unprivileged = src.unprivileged;
    if (unprivileged) {
      addRange('u', ID_OFFSET, ID_RANGE);
      addRange('g', ID_OFFSET, ID_RANGE);
    }
    for (const m of src.idmap) addRange(m.type === 'uid' ? 'u' : 'g', m.hostId, m.size);
    for (const m of g.mounts) {
      if (m.type !== 'bind') continue;
      const hostId = (kind: 'uid' | 'gid', id: number | undefined): number => {
        const inside = id ?? 0;
        if (!unprivileged) return inside;
        const mapped = src.idmap.find((x) => x.type === kind && x.containerId <= inside && inside < x.containerId + x.size);
        return mapped ? mapped.hostId + (inside - mapped.containerId) : ID_OFFSET + inside;
      };
      // A path whose last part looks like a file (a.conf) is a file mount: its directory is the source to create.
      const path = /\.[A-Za-z0-9]+$/.test(m.hostPath.split('/').pop() ?? '') ? m.hostPath.replace(/\/[^/]+$/, '') : m.hostPath;
      if (!dirs.has(path)) dirs.set(path, { path, uid: hostId('uid', m.ownerUid), gid: hostId('gid', m.ownerGid), mode: '' });
    }
  }
  for (const [name, content] of own) if (!profiles.has(name)) profiles.set(name, content);
  out.apparmorProfiles = [...profiles].map(([name, content]) => ({ name, content }));
  out.subIds = [...ranges.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.start - b.start);
  out.directories = [...dirs.values()].sort((a, b) => a.path.localeCompare(b.path));
  return { node: nodeName, profile: profileName, spec: out, warnings, errors };
}

/** The fields of a host profile (input or compiled) that node setup leaves undone. */
export function hostFieldsNotCarriedOut(profile: Readonly<Record<string, unknown>>): Array<{ field: keyof HostSetup; message: string }> {
  return NOT_CARRIED_OUT.filter(([field]) => isSet(profile[field])).map(([field, message]) => ({ field, message }));
}

function isSet(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.values(v).some(isSet);
  return true;
}
