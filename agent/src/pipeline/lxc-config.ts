/**
 * Desired container configuration from a spec, and its difference to what `pct config` shows:
 * the keys of ONE `pct set` (only the changed ones, `--delete` for removed ones), disk growth,
 * the raw lines, and whether a running container must restart to apply it. Pure functions.
 *
 * Ownership rules (0 and empty mean "leave as is" for plain values, since proto3 cannot tell
 * unset from zero): cores, memory, swap, hostname, nameservers, search domain, tags, description
 * and lxc_features are enforced when given; networks are enforced (extra netN removed) when any
 * is given; mount points, GPU passthrough and raw lxc lines always follow the spec exactly.
 */
import { InvalidArgumentError } from '@phoenix/shared';
import { formatPropertyString, parseDiskSize, parsePropertyString, parsePveBool } from '../drivers/parse-config.js';
import type { DeviceNodeFact, GuestConfig, RawLxcLine } from '../drivers/types.js';
import { composeDescription, splitDescription } from '../features/record.js';
import { gpuRawLines, planDevEntries, type GpuMode } from './gpu.js';
import { desiredRawLines, sameRawLines } from './raw-lines.js';
import { NEW_VOLUME_RE } from './spec-validate.js';
import type { GuestSpec } from './types.js';
import { configDiff } from './config-diff.js';

export interface LxcChanges {
  set: Record<string, string>;
  delete: string[];
  /** `pct resize` calls: disk key and absolute size. */
  resize: Array<{ disk: string; size: string }>;
  /** The new raw lines when they differ from the current ones. */
  raw: RawLxcLine[] | undefined;
  /** A running container only picks these changes up on restart. */
  needsRestart: boolean;
  /** One line per change, for events. */
  summary: string[];
}

export interface GpuInput {
  mode: GpuMode;
  /** Device nodes for the requested GPUs (selectGpuDevices); empty = no passthrough. */
  devices: readonly DeviceNodeFact[];
}

/** Keys whose change does not reach a running container before a restart. */
const COLD_KEYS = /^(features|dev\d+|mp\d+|unprivileged|ostype|arch|rootfs|nameserver|searchdomain)$/;

export function netValue(spec: GuestSpec['networks'][number], currentHwaddr: string | undefined): string {
  const entries: Array<[string, string]> = [['name', spec.name || `eth${spec.index}`], ['bridge', spec.bridge || 'vmbr0']];
  if (spec.firewall) entries.push(['firewall', '1']);
  if (spec.gateway) entries.push(['gw', spec.gateway]);
  const mac = spec.mac ? spec.mac.toUpperCase() : currentHwaddr;
  if (mac) entries.push(['hwaddr', mac]);
  if (spec.ip) entries.push(['ip', spec.ip]);
  if (spec.vlanTag > 0) entries.push(['tag', String(spec.vlanTag)]);
  entries.push(['type', 'veth']);
  return formatPropertyString(entries);
}

function sameNet(current: string, desired: string): boolean {
  const a = parsePropertyString(current);
  const b = parsePropertyString(desired);
  for (const key of ['name', 'bridge', 'firewall', 'gw', 'hwaddr', 'ip', 'tag']) {
    const x = key === 'firewall' ? (parsePveBool(a.get(key)) ? '1' : '') : (a.get(key) ?? '');
    const y = key === 'firewall' ? (parsePveBool(b.get(key)) ? '1' : '') : (b.get(key) ?? '');
    if (key === 'hwaddr' ? x.toUpperCase() !== y.toUpperCase() : x !== y) return false;
  }
  return true;
}

export function featuresValue(f: NonNullable<GuestSpec['lxcFeatures']>): string {
  const entries: Array<[string, string]> = [];
  if (f.fuse) entries.push(['fuse', '1']);
  if (f.keyctl) entries.push(['keyctl', '1']);
  if (f.mount.length > 0) entries.push(['mount', f.mount.join(';')]);
  if (f.nesting) entries.push(['nesting', '1']);
  return formatPropertyString(entries);
}

function sameFeatures(current: string | undefined, desired: string): boolean {
  const a = parsePropertyString(current ?? '');
  const b = parsePropertyString(desired);
  const norm = (m: Map<string, string>) =>
    [...m]
      .filter(([k, v]) => (k === 'mount' ? v !== '' : parsePveBool(v)))
      .map(([k, v]) => (k === 'mount' ? `${k}=${v.split(';').sort().join(';')}` : k))
      .sort()
      .join(',');
  return norm(a) === norm(b);
}

export function startupValue(s: NonNullable<GuestSpec['startup']>): string {
  const parts = [`order=${s.order}`];
  if (s.upDelaySeconds > 0) parts.push(`up=${s.upDelaySeconds}`);
  if (s.downDelaySeconds > 0) parts.push(`down=${s.downDelaySeconds}`);
  return parts.join(',');
}

function sameStartup(current: string | undefined, desired: string): boolean {
  const a = parsePropertyString(current ?? '', 'order');
  const b = parsePropertyString(desired, 'order');
  return ['order', 'up', 'down'].every((k) => (a.get(k) ?? '') === (b.get(k) ?? ''));
}

function tagSet(v: string | undefined): string {
  return [...new Set((v ?? '').split(/[;, ]+/).filter(Boolean))].sort().join(';');
}

function mpValue(m: GuestSpec['mountPoints'][number], volume: string, size: string | undefined): string {
  const entries: Array<[string, string]> = [['volume', volume], ['mp', m.path]];
  if (m.readOnly) entries.push(['ro', '1']);
  if (m.backup) entries.push(['backup', '1']);
  if (m.shared) entries.push(['shared', '1']);
  if (size) entries.push(['size', size]);
  return formatPropertyString(entries, 'volume');
}

function gib(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : bytes / 1024 ** 3;
}

/** Parameters of `pct create` for a spec (everything settable at creation). */
export function lxcCreateParams(spec: GuestSpec, gpu: GpuInput): Record<string, string | number | boolean> {
  const p: Record<string, string | number | boolean> = {};
  if (spec.hostname) p['hostname'] = spec.hostname;
  if (spec.cores > 0) p['cores'] = spec.cores;
  if (spec.memoryMib > 0) p['memory'] = spec.memoryMib;
  if (spec.swapMib > 0) p['swap'] = spec.swapMib;
  if (spec.onboot) p['onboot'] = true;
  if (spec.startup) p['startup'] = startupValue(spec.startup);
  if (spec.tags.length > 0) p['tags'] = tagSet(spec.tags.join(';'));
  if (spec.nameservers.length > 0) p['nameserver'] = spec.nameservers.join(' ');
  if (spec.searchDomain) p['searchdomain'] = spec.searchDomain;
  if (spec.description) p['description'] = spec.description;
  if (spec.lxcFeatures) {
    const f = featuresValue(spec.lxcFeatures);
    if (f) p['features'] = f;
  }
  p['unprivileged'] = spec.unprivileged;
  const root = spec.rootDisk;
  if (root?.storage) p['rootfs'] = `${root.storage}:${root.sizeGib > 0 ? root.sizeGib : 8}`;
  for (const n of spec.networks) p[`net${n.index}`] = netValue(n, undefined);
  for (const m of spec.mountPoints) p[`mp${m.index}`] = mpValue(m, m.volume, undefined);
  if (gpu.mode === 'dev') Object.assign(p, planDevEntries({}, gpu.devices).set);
  return p;
}

/** Raw lines a spec wants (the GPU part only in raw mode). */
export function lxcRawLines(spec: GuestSpec, gpu: GpuInput): RawLxcLine[] {
  return desiredRawLines(spec, gpu.mode === 'raw' ? gpuRawLines(gpu.devices) : []);
}

export function diffLxc(spec: GuestSpec, current: GuestConfig, gpu: GpuInput): LxcChanges {
  const cur = current.values;
  const { set, del, resize, summary, put, drop } = configDiff(cur);

  if (parsePveBool(cur['unprivileged']) !== spec.unprivileged) {
    throw new InvalidArgumentError(
      'unprivileged',
      spec.unprivileged,
      `CT ${spec.vmid} is ${parsePveBool(cur['unprivileged']) ? 'unprivileged' : 'privileged'}; this is fixed at creation (recreate the container to change it)`,
    );
  }
  if (spec.hostname && cur['hostname'] !== spec.hostname) put('hostname', spec.hostname);
  if (spec.cores > 0 && cur['cores'] !== String(spec.cores)) put('cores', String(spec.cores));
  if (spec.memoryMib > 0 && cur['memory'] !== String(spec.memoryMib)) put('memory', String(spec.memoryMib));
  if (spec.swapMib > 0 && cur['swap'] !== String(spec.swapMib)) put('swap', String(spec.swapMib));
  if (spec.onboot && !parsePveBool(cur['onboot'])) put('onboot', '1');
  if (!spec.onboot && parsePveBool(cur['onboot'])) drop('onboot');
  if (spec.startup) {
    const v = startupValue(spec.startup);
    if (!sameStartup(cur['startup'], v)) put('startup', v);
  }
  if (spec.tags.length > 0) {
    const v = tagSet(spec.tags.join(';'));
    if (tagSet(cur['tags']) !== v) put('tags', v);
  }
  if (spec.nameservers.length > 0) {
    const v = spec.nameservers.join(' ');
    if ((cur['nameserver'] ?? '').split(/\s+/).join(' ') !== v) put('nameserver', v);
  }
  if (spec.searchDomain && cur['searchdomain'] !== spec.searchDomain) put('searchdomain', spec.searchDomain);
  if (spec.description) {
    const { human, record } = splitDescription(cur['description'] ?? '');
    if (human !== spec.description.replace(/\s+$/, '')) put('description', composeDescription(spec.description, record), 'description: changed');
  }
  if (spec.lxcFeatures) {
    const v = featuresValue(spec.lxcFeatures);
    if (!sameFeatures(cur['features'], v)) {
      if (v === '') drop('features');
      else put('features', v);
    }
  }

  // Networks: enforced when the spec has any.
  if (spec.networks.length > 0) {
    const wanted = new Set(spec.networks.map((n) => `net${n.index}`));
    for (const n of spec.networks) {
      const key = `net${n.index}`;
      const hw = cur[key] ? parsePropertyString(cur[key]).get('hwaddr') : undefined;
      const v = netValue(n, hw);
      if (!cur[key] || !sameNet(cur[key], v)) put(key, v);
    }
    for (const key of Object.keys(cur)) if (/^net\d+$/.test(key) && !wanted.has(key)) drop(key);
  }

  // Root disk: grow only.
  const rootSize = gib(parseDiskSize(parsePropertyString(cur['rootfs'] ?? '', 'volume').get('size') ?? ''));
  if (spec.rootDisk && spec.rootDisk.sizeGib > 0 && rootSize !== undefined) {
    if (spec.rootDisk.sizeGib < rootSize - 1e-9) {
      throw new InvalidArgumentError('root_disk.size_gib', spec.rootDisk.sizeGib, `cannot shrink the root disk of CT ${spec.vmid} from ${rootSize}G`);
    }
    if (spec.rootDisk.sizeGib > rootSize + 1e-9) {
      resize.push({ disk: 'rootfs', size: `${spec.rootDisk.sizeGib}G` });
      summary.push(`rootfs: ${rootSize}G → ${spec.rootDisk.sizeGib}G`);
    }
  }

  // Mount points: exactly the spec's.
  const wantedMp = new Set(spec.mountPoints.map((m) => `mp${m.index}`));
  spec.mountPoints.forEach((m, i) => {
    const key = `mp${m.index}`;
    const existing = cur[key];
    if (!existing) {
      put(key, mpValue(m, m.volume, undefined), `${key}: add ${m.volume} at ${m.path}`);
      return;
    }
    const ex = parsePropertyString(existing, 'volume');
    const exVolume = ex.get('volume') ?? '';
    const exSize = ex.get('size');
    const alloc = NEW_VOLUME_RE.exec(m.volume);
    let volume = m.volume;
    if (alloc) {
      // "storage:size" allocates; an existing volume on that storage is the same mount point.
      if (!exVolume.startsWith(`${alloc[1]}:`) || exVolume.startsWith('/')) {
        throw new InvalidArgumentError(
          `mount_points[${i}].volume`,
          m.volume,
          `${key} holds ${exVolume}; moving it to another storage would orphan its data (use pct move-volume)`,
        );
      }
      volume = exVolume;
      const have = gib(parseDiskSize(exSize ?? ''));
      const want = Number(alloc[2]);
      if (have !== undefined && want < have - 1e-9) {
        throw new InvalidArgumentError(`mount_points[${i}].volume`, m.volume, `cannot shrink ${key} from ${have}G`);
      }
      if (have !== undefined && want > have + 1e-9) {
        resize.push({ disk: key, size: `${want}G` });
        summary.push(`${key}: ${have}G → ${want}G`);
      }
    } else if (exVolume !== m.volume) {
      if (!m.volume.startsWith('/') && !exVolume.startsWith('/')) {
        throw new InvalidArgumentError(`mount_points[${i}].volume`, m.volume, `${key} holds ${exVolume}; replacing a volume is not done implicitly`);
      }
      put(key, mpValue(m, m.volume, undefined), `${key}: ${exVolume} → ${m.volume}`);
      return;
    }
    const sameOpts =
      (ex.get('mp') ?? '') === m.path &&
      parsePveBool(ex.get('ro')) === m.readOnly &&
      parsePveBool(ex.get('backup')) === m.backup &&
      parsePveBool(ex.get('shared')) === m.shared;
    if (!sameOpts) put(key, mpValue(m, volume, exSize), `${key}: options of ${volume} → mp=${m.path}`);
  });
  for (const key of Object.keys(cur)) if (/^mp\d+$/.test(key) && !wantedMp.has(key)) drop(key);

  // GPU passthrough, dev mode: devN entries for /dev/nvidia* (raw mode lines come below).
  const devPlan = planDevEntries(cur, gpu.mode === 'dev' ? gpu.devices : []);
  for (const [k, v] of Object.entries(devPlan.set)) put(k, v, `${k}: pass through ${v}`);
  for (const k of devPlan.delete) {
    del.push(k);
    summary.push(`${k}: stop passing through ${cur[k] ?? ''}`);
  }

  const desiredRaw = lxcRawLines(spec, gpu);
  const raw = sameRawLines(current.lxc, desiredRaw) ? undefined : desiredRaw;
  if (raw) summary.push(`raw lxc lines: ${current.lxc.length} → ${raw.length}`);

  const needsRestart = raw !== undefined || Object.keys(set).some((k) => COLD_KEYS.test(k)) || del.some((k) => COLD_KEYS.test(k));
  return { set, delete: [...new Set(del)].sort(), resize, raw, needsRestart, summary };
}

export function hasChanges(c: LxcChanges): boolean {
  return Object.keys(c.set).length > 0 || c.delete.length > 0 || c.resize.length > 0 || c.raw !== undefined;
}
