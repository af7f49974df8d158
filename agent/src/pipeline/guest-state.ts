/** Reading a guest's live state: config (or absence), kind, record of installed features. */
import { AlreadyExistsError, NotFoundError } from '@phoenix/shared';
import { parsePveBool } from '../drivers/parse-config.js';
import type { GuestConfig } from '../drivers/types.js';
import { splitDescription, type InstalledRecord } from '../features/record.js';
import { sig, type PipelineContext } from './context.js';
import type { GuestKindDriver } from './guest-kind.js';
import { KINDS } from './kinds.js';

export type { Kind } from './guest-kind.js';

export async function readConfig(c: PipelineContext, kind: GuestKindDriver, vmid: number, o?: { signal?: AbortSignal }): Promise<GuestConfig | undefined> {
  try {
    return await kind.tool(c.d).config(vmid, sig(o));
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** The kind of an existing guest, or undefined. */
export async function kindOf(c: PipelineContext, vmid: number, o?: { signal?: AbortSignal }): Promise<GuestKindDriver | undefined> {
  for (const kind of KINDS) if (await readConfig(c, kind, vmid, o)) return kind;
  return undefined;
}

/** The kind other than `kind` holding this VMID, if any. */
export async function otherKindHolding(c: PipelineContext, kind: GuestKindDriver, vmid: number, o?: { signal?: AbortSignal }): Promise<GuestKindDriver | undefined> {
  for (const other of KINDS) if (other !== kind && (await readConfig(c, other, vmid, o))) return other;
  return undefined;
}

/** Config of the wanted kind; an existing guest of the other kind with this VMID is an error. */
export async function readOwnConfig(c: PipelineContext, kind: GuestKindDriver, vmid: number, o?: { signal?: AbortSignal }): Promise<GuestConfig | undefined> {
  const cfg = await readConfig(c, kind, vmid, o);
  if (cfg) return cfg;
  const other = await otherKindHolding(c, kind, vmid, o);
  if (other) throw new AlreadyExistsError(`VMID ${vmid} is taken by ${other.noun}`, { details: { vmid } });
  return undefined;
}

export function recordOf(cfg: GuestConfig | undefined): InstalledRecord {
  return splitDescription(cfg?.values['description'] ?? '').record;
}

export function isTemplate(cfg: GuestConfig | undefined): boolean {
  return parsePveBool(cfg?.values['template']);
}

/**
 * Keys that differ between a snapshot and the live config without meaning a change. A snapshot's
 * `description` is its own comment (PVE never copies the guest's into it); Phoenix writes the
 * record of installed features there, compared separately.
 */
const VOLATILE = new Set(['snaptime', 'snapstate', 'parent', 'lock', 'digest', 'vmstate', 'runningmachine', 'runningcpu', 'description']);

/** Whether a snapshot still captures the live configuration (so it need not be taken again). */
export function snapshotMatches(live: GuestConfig, snap: GuestConfig): boolean {
  // A snapshot still in 'prepare' or 'delete' state was never completed.
  if (snap.values['snapstate']) return false;
  const keys = new Set([...Object.keys(live.values), ...Object.keys(snap.values)].filter((k) => !VOLATILE.has(k)));
  for (const k of keys) if ((live.values[k] ?? '') !== (snap.values[k] ?? '')) return false;
  const a = [...recordOf(live)].sort().join(' ');
  const b = [...recordOf(snap)].sort().join(' ');
  if (a !== b) return false;
  if (live.lxc.length !== snap.lxc.length) return false;
  return live.lxc.every((l, i) => l.key === snap.lxc[i]?.key && l.value === snap.lxc[i]?.value);
}
