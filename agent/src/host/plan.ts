/**
 * HostSpec + what the node looks like → the complete list of actions, in order (pools, datasets,
 * ARC, storages, subordinate ids, AppArmor, directories, NFS exports, firewall). Pure: no I/O, so the same
 * plan is what a dry run prints and what a real run executes.
 */
import type { agentv1 } from '@phoenix/shared';
import { apparmorFile, HOST_FILES, type DirState, type HostAction, type HostDrift, type HostPlan, type HostRefusal, type ObservedHost } from './types.js';
import { exportsContent, modprobeContent, subIdContent } from './file-content.js';
import { planFirewall } from './firewall-plan.js';

/** Properties ZFS fixes at creation: a difference is reported, never "repaired". */
const CREATE_ONLY = new Set(['casesensitivity', 'normalization', 'utf8only', 'encryption', 'volblocksize']);
/** storage.cfg keys Proxmox will not change on an existing storage (`pvesm set` refuses them). */
const FIXED_STORAGE_KEYS = new Set(['pool', 'path', 'server', 'export', 'share', 'datastore', 'vgname', 'thinpool']);

export function planHost(spec: agentv1.HostSpec, seen: ObservedHost): HostPlan {
  const plan: HostPlan = { actions: [], converged: [], drift: [], refusals: [] };
  planPools(spec, seen, plan);
  planDatasets(spec, seen, plan);
  planArc(spec, seen, plan);
  planStorages(spec, seen, plan);
  planSubIds(spec, seen, plan);
  planAppArmor(spec, seen, plan);
  planDirs(spec, seen, plan);
  planExports(spec, seen, plan);
  planFirewall(spec, seen, plan);
  return plan;
}

function planPools(spec: agentv1.HostSpec, seen: ObservedHost, plan: HostPlan): void {
  for (const pool of spec.pools) {
    const step = `pool:${pool.name}`;
    if (seen.pools.has(pool.name)) {
      plan.converged.push(step);
      continue;
    }
    const refusals: HostRefusal[] = [];
    for (const disk of pool.disks) {
      const state = seen.disks.get(disk);
      if (state === undefined) {
        refusals.push({ pool: pool.name, disk, reason: 'no such disk' });
        continue;
      }
      const found = [...state.signatures, ...state.partitions.map((p) => `partition ${p}`)];
      if (found.length > 0 && !pool.allowDestructive) {
        refusals.push({ pool: pool.name, disk, reason: `holds data (${found.join(', ')}); the pool does not allow destructive creation` });
      }
    }
    if (refusals.length > 0) {
      plan.refusals.push(...refusals);
      continue;
    }
    const dirty = pool.disks.some((d) => {
      const s = seen.disks.get(d);
      return s !== undefined && (s.signatures.length > 0 || s.partitions.length > 0);
    });
    const args = ['create'];
    if (dirty) args.push('-f');
    for (const [k, v] of sorted(pool.poolProperties)) args.push('-o', `${k}=${v}`);
    for (const [k, v] of sorted(pool.fsProperties)) args.push('-O', `${k}=${v}`);
    args.push(pool.name);
    if (pool.layout !== 'stripe' && pool.layout !== '') args.push(pool.layout);
    args.push(...pool.disks);
    plan.actions.push({
      kind: 'command',
      step,
      summary: `create ${pool.layout || 'stripe'} pool ${pool.name} on ${pool.disks.length} disk(s)${dirty ? ' (destroying what they hold, as the pool allows)' : ''}`,
      tool: 'zpool',
      args,
    });
  }
}

function planDatasets(spec: agentv1.HostSpec, seen: ObservedHost, plan: HostPlan): void {
  for (const ds of spec.datasets) {
    const step = `dataset:${ds.name}`;
    const current = seen.datasets.get(ds.name);
    if (current === undefined) {
      const args = ['create', '-p'];
      for (const [k, v] of sorted(ds.properties)) args.push('-o', `${k}=${v}`);
      args.push(ds.name);
      plan.actions.push({ kind: 'command', step, summary: `create dataset ${ds.name}`, tool: 'zfs', args });
      continue;
    }
    const changes: [string, string][] = [];
    for (const [k, v] of sorted(ds.properties)) {
      if (sameZfsValue(v, current[k])) continue;
      if (CREATE_ONLY.has(k)) plan.drift.push({ step, message: `${k} is ${current[k] ?? '(unset)'}, the spec says ${v}; ZFS fixes it at creation, left as it is` });
      else changes.push([k, v]);
    }
    if (changes.length === 0) {
      plan.converged.push(step);
      continue;
    }
    plan.actions.push({
      kind: 'command',
      step,
      summary: `set ${changes.map(([k, v]) => `${k}=${v} (was ${current[k] ?? 'unset'})`).join(', ')} on ${ds.name}`,
      tool: 'zfs',
      args: ['set', ...changes.map(([k, v]) => `${k}=${v}`), ds.name],
    });
  }
}

function planArc(spec: agentv1.HostSpec, seen: ObservedHost, plan: HostPlan): void {
  if (spec.arcMaxBytes === 0) return;
  const value = String(spec.arcMaxBytes);
  const before = seen.files.get(HOST_FILES.zfsModprobe);
  const after = modprobeContent(before, value);
  if (after !== before) {
    plan.actions.push({ kind: 'file', step: 'arc:persistent', summary: `zfs_arc_max=${value} for the next boot`, path: HOST_FILES.zfsModprobe, before, after });
  } else plan.converged.push('arc:persistent');
  const runtime = seen.files.get(HOST_FILES.arcMax)?.trim();
  if (runtime !== value) {
    plan.actions.push({ kind: 'sysfs', step: 'arc:runtime', summary: `zfs_arc_max=${value} now (was ${runtime ?? 'unknown'})`, path: HOST_FILES.arcMax, value });
  } else plan.converged.push('arc:runtime');
}

function planStorages(spec: agentv1.HostSpec, seen: ObservedHost, plan: HostPlan): void {
  for (const st of spec.storages) {
    const step = `storage:${st.id}`;
    const current = seen.storages.get(st.id);
    if (current === undefined) {
      const args = ['add', st.type, st.id];
      for (const [k, v] of sorted(st.options)) args.push(`--${k}`, v);
      if (st.content.length > 0) args.push('--content', st.content.join(','));
      plan.actions.push({ kind: 'command', step, summary: `register ${st.type} storage ${st.id}`, tool: 'pvesm', args });
      continue;
    }
    if (current.type !== st.type) {
      plan.drift.push({ step, message: `exists as a ${current.type} storage, the spec says ${st.type}; a storage cannot change its type, left as it is` });
      continue;
    }
    const set: string[] = [];
    const changed: string[] = [];
    const fixedDrift: string[] = [];
    for (const [k, v] of sorted(st.options)) {
      if (current.options[k] === v) continue;
      if (FIXED_STORAGE_KEYS.has(k)) fixedDrift.push(`${k} is ${current.options[k] ?? '(unset)'}, the spec says ${v}`);
      else if (k !== 'create-base-path') {
        set.push(`--${k}`, v);
        changed.push(`${k}=${v}`);
      }
    }
    if (st.content.length > 0 && [...st.content].sort().join(',') !== [...current.content].sort().join(',')) {
      set.push('--content', st.content.join(','));
      changed.push(`content=${st.content.join(',')} (was ${current.content.join(',') || 'none'})`);
    }
    if (fixedDrift.length > 0) {
      plan.drift.push({ step, message: `${fixedDrift.join('; ')}: where a storage points is fixed once guests use it, left as it is` });
    }
    if (set.length === 0) {
      if (fixedDrift.length === 0) plan.converged.push(step);
      continue;
    }
    plan.actions.push({ kind: 'command', step, summary: `update storage ${st.id}: ${changed.join(', ')}`, tool: 'pvesm', args: ['set', st.id, ...set] });
  }
}

function planSubIds(spec: agentv1.HostSpec, seen: ObservedHost, plan: HostPlan): void {
  for (const [kind, path] of [['u', HOST_FILES.subuid], ['g', HOST_FILES.subgid]] as const) {
    const ranges = spec.subIds.filter((r) => r.kind === kind);
    if (ranges.length === 0) continue;
    const step = `file:${path}`;
    const before = seen.files.get(path);
    const after = subIdContent(before, ranges);
    if (after === undefined || after === before) plan.converged.push(step);
    else plan.actions.push({ kind: 'file', step, summary: `add subordinate ${kind === 'u' ? 'uid' : 'gid'} ranges`, path, before, after });
  }
}

function planAppArmor(spec: agentv1.HostSpec, seen: ObservedHost, plan: HostPlan): void {
  for (const profile of spec.apparmorProfiles) {
    const path = apparmorFile(profile.name);
    const step = `apparmor:${profile.name}`;
    const before = seen.files.get(path);
    const content = profile.content.endsWith('\n') ? profile.content : `${profile.content}\n`;
    const write = before !== content;
    if (write) plan.actions.push({ kind: 'file', step, summary: `install AppArmor profile ${profile.name}`, path, before, after: content });
    if (write || !seen.loadedProfiles.has(profile.name)) {
      // -r replaces a loaded profile or loads a new one; -W writes the cache so a reboot finds it.
      plan.actions.push({ kind: 'command', step, summary: `load AppArmor profile ${profile.name}`, tool: 'apparmorParser', args: ['-r', '-W', path] });
    } else plan.converged.push(step);
  }
}

function planDirs(spec: agentv1.HostSpec, seen: ObservedHost, plan: HostPlan): void {
  for (const dir of spec.directories) {
    const step = `dir:${dir.path}`;
    const current = seen.dirs.get(dir.path);
    const mode = dir.mode === '' ? undefined : parseInt(dir.mode, 8);
    if (current !== undefined && sameDir(current, dir.uid, dir.gid, mode)) {
      plan.converged.push(step);
      continue;
    }
    const what: string = current === undefined ? 'create' : `fix owner/mode (was ${current.uid}:${current.gid} ${octal(current.mode)})`;
    plan.actions.push({
      kind: 'dir',
      step,
      summary: `${what} ${dir.path} as ${dir.uid}:${dir.gid}${mode === undefined ? '' : ` ${octal(mode)}`}`,
      path: dir.path,
      create: current === undefined,
      uid: dir.uid,
      gid: dir.gid,
      mode: mode ?? (current === undefined ? 0o755 : undefined),
    });
  }
}

function planExports(spec: agentv1.HostSpec, seen: ObservedHost, plan: HostPlan): void {
  if (spec.nfsExports.length === 0) return;
  const path = HOST_FILES.exports;
  const step = `file:${path}`;
  const before = seen.files.get(path);
  const after = exportsContent(before, spec.nfsExports);
  if (after === before) {
    plan.converged.push(step);
    return;
  }
  plan.actions.push({ kind: 'file', step, summary: `write ${spec.nfsExports.length} NFS export(s)`, path, before, after });
  plan.actions.push({ kind: 'command', step: 'nfs:exportfs', summary: 're-export everything in /etc/exports', tool: 'exportfs', args: ['-ra'] });
}

function sameDir(d: DirState, uid: number, gid: number, mode: number | undefined): boolean {
  return d.uid === uid && d.gid === gid && (mode === undefined || (d.mode & 0o7777) === mode);
}

/** ZFS prints sizes in bytes with -p; the spec writes them like `600G` or `1.4T`. */
export function sameZfsValue(want: string, have: string | undefined): boolean {
  if (have === undefined) return false;
  if (want === have) return true;
  const w = zfsBytes(want);
  return w !== undefined && /^\d+$/.test(have) && w === Number(have);
}

function zfsBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGTPE]?)$/i.exec(text.trim());
  if (!m) return undefined;
  const exp = ' KMGTPE'.indexOf((m[2] || ' ').toUpperCase());
  return Math.floor(Number(m[1]) * 1024 ** Math.max(exp, 0));
}

function sorted(rec: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(rec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

export type { HostAction, HostDrift };
