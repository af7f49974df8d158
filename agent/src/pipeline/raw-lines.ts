/**
 * The container's raw `lxc.*` lines as the spec wants them: idmaps, AppArmor profile, GPU lines
 * (raw mode) and the spec's own raw lines. The spec owns them all: lines it no longer asks for
 * are removed (the old scripts only ever appended, so clones inherited stale GPU lines).
 */
import type { agentv1 } from '@phoenix/shared';
import { InvalidArgumentError } from '@phoenix/shared';
import type { RawLxcLine } from '../drivers/types.js';

const HOST_BASE = 100_000;
const RANGE = 65_536;

/**
 * lxc.idmap lines. Entries given for a kind are completed with the default shift (container id
 * → 100000 + id) around them, so "gid 33 → 33" yields the three lines LXC needs. A kind without
 * entries gets the default full range (LXC needs both kinds once any is set).
 */
export function idmapLines(maps: readonly agentv1.IdMap[]): RawLxcLine[] {
  if (maps.length === 0) return [];
  const out: RawLxcLine[] = [];
  for (const kind of ['u', 'g'] as const) {
    const entries = maps
      .map((m, i) => ({ ...m, i }))
      .filter((m) => m.kind === kind)
      .sort((a, b) => a.containerStart - b.containerStart);
    let next = 0;
    for (const e of entries) {
      if (e.containerStart < next) {
        throw new InvalidArgumentError(`id_maps[${e.i}].container_start`, e.containerStart, `overlaps an earlier ${kind}id range`);
      }
      if (e.containerStart > next) out.push(line(kind, next, HOST_BASE + next, e.containerStart - next));
      out.push(line(kind, e.containerStart, e.hostStart, e.count));
      next = e.containerStart + e.count;
    }
    if (next < RANGE) out.push(line(kind, next, HOST_BASE + next, RANGE - next));
  }
  return out;
}

function line(kind: string, c: number, h: number, n: number): RawLxcLine {
  return { key: 'lxc.idmap', value: `${kind} ${c} ${h} ${n}` };
}

/** `lxc.foo=bar`, `lxc.foo: bar` → one normalised line. */
export function parseRawLine(text: string): RawLxcLine {
  const m = /^(lxc\.[A-Za-z0-9_.-]+)\s*[:=]\s*(.*)$/.exec(text.trim());
  if (!m || m[1] === undefined) throw new InvalidArgumentError('raw_lxc', text, 'must be one "lxc.<key>: <value>" line');
  return { key: m[1], value: normalizeValue(m[2] ?? '') };
}

export function normalizeValue(v: string): string {
  return v.trim().replace(/\s+/g, ' ');
}

export function sameRawLines(a: readonly RawLxcLine[], b: readonly RawLxcLine[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((l, i) => l.key === b[i]?.key && normalizeValue(l.value) === normalizeValue(b[i]?.value ?? ''));
}

/** All raw lines of a spec, in a fixed order; duplicates dropped. */
export function desiredRawLines(spec: agentv1.GuestSpec, gpuLines: readonly RawLxcLine[]): RawLxcLine[] {
  const lines: RawLxcLine[] = [...idmapLines(spec.idMaps)];
  if (spec.apparmorProfile !== '') lines.push({ key: 'lxc.apparmor.profile', value: spec.apparmorProfile });
  lines.push(...gpuLines);
  for (const text of spec.rawLxc) lines.push(parseRawLine(text));
  const seen = new Set<string>();
  return lines.filter((l) => {
    const k = `${l.key}\0${normalizeValue(l.value)}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
