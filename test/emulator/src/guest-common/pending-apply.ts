import type { GuestConfig } from '../core/config-file.js';
import type { Ctx } from '../core/ctx.js';
import { errorText } from '../core/errors.js';
import { splitList } from '../core/formats.js';

/** What applying pending changes needs to know about one guest kind (pct/lxc-pending.ts, qm/qemu-pending.ts). */
export interface PendingKind {
  /** The volume a config entry holds, when the entry is one that holds volumes. */
  volumeOf(key: string, value: string): string | undefined;
  /** Releases what a deleted option held (its volume becomes unusedN, or is freed). */
  drop(ctx: Ctx, conf: GuestConfig, opt: string, force: boolean): Promise<void>;
  /** Prepares a pending value (allocating or detaching volumes); returns the value to store. */
  apply(ctx: Ctx, vmid: number, conf: GuestConfig, opt: string, value: string): Promise<string>;
}

/**
 * vmconfig_apply_pending as PVE runs it when a guest stops (LXC's post-stop hook, qemu's
 * vm_stop_cleanup) and when it starts (vm_start): pending deletions first, then the pending
 * values; a volume that leaves the config becomes an unusedN entry, a `!opt` deletion (force) of a
 * VM drive frees it. A change that fails stays pending and is reported as "unable to apply
 * pending change", the stop or start goes on. Returns whether the config changed.
 */
export async function applyPendingChanges(ctx: Ctx, kind: PendingKind, vmid: number, conf: GuestConfig): Promise<boolean> {
  const pend = conf.pending.props;
  if (!Object.keys(pend).length) return false;
  const warn = (opt: string, err: unknown): void => ctx.err(`unable to apply pending change ${opt} : ${errorText(err)}`);

  const deletes = new Map<string, boolean>();
  for (const d of splitList(pend['delete'] ?? '')) deletes.set(d.replace(/^!/, ''), d.startsWith('!'));
  const keep: string[] = [];
  for (const opt of [...deletes.keys()].sort()) {
    try {
      await kind.drop(ctx, conf, opt, deletes.get(opt) === true);
      if (opt === 'description') delete conf.description;
      delete conf.props[opt];
    } catch (err) {
      warn(opt, err);
      keep.push(`${deletes.get(opt) === true ? '!' : ''}${opt}`);
    }
  }
  if (keep.length) pend['delete'] = keep.join(',');
  else delete pend['delete'];

  // cleanup_pending: values equal to the current ones are dropped.
  for (const [opt, v] of Object.entries(pend)) if (opt !== 'delete' && conf.props[opt] === v) delete pend[opt];

  for (const opt of Object.keys(pend).sort()) {
    if (opt === 'delete') continue;
    const value = pend[opt] ?? '';
    try {
      const stored = await kind.apply(ctx, vmid, conf, opt, value);
      if (opt === 'description') conf.description = stored;
      else conf.props[opt] = stored;
      delete pend[opt];
    } catch (err) {
      warn(opt, err);
    }
  }
  return true;
}

/** True when another key of the config (not `except`) still uses the volume. */
export function volumeInUse(kind: PendingKind, conf: GuestConfig, volid: string, except: string): boolean {
  for (const [k, v] of Object.entries(conf.props)) {
    if (k === except || /^unused\d+$/.test(k)) continue;
    if (kind.volumeOf(k, v) === volid) return true;
  }
  return false;
}
