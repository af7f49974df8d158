/**
 * Locks left by an operation that died. PVE marks a guest being created or cloned with the
 * config property `lock: create` (qm clone targets: `clone`), the clone source with `disk`, and a
 * guest being destroyed with `destroyed`; the agent dying mid-way leaves them behind, and every
 * later command fails with "CT is locked (create)". A lock is stale when no operation of this
 * process or of the daemon's journal is running on the VMID. Then: a half-created target is
 * removed (unlock + destroy) so it can be created again, a source's `disk` lock is removed.
 * A live PVE process still holds the config's file lock; our unlock then times out and the lock
 * is left alone, so a running task is never cut short. Locks of other tools (backup, migrate,
 * mounted …) are never touched.
 */
import { LockedError, NotFoundError } from '@phoenix/shared';
import type { GuestConfig } from '../drivers/types.js';
import { isActive, sig, type PipelineContext } from './context.js';
import type { GuestKindDriver } from './guest-kind.js';
import { guestOps } from './guest-ops.js';
import { readConfig } from './guest-state.js';
import { sleep } from './retry.js';
import type { PipelineOptions } from './types.js';

/** Locks of half-made guests: remove the guest. */
const HALF_MADE = new Set(['create', 'clone', 'destroyed']);
/** Locks a dead Phoenix operation may leave on a guest that is otherwise fine: unlock. */
const UNLOCKABLE = new Set(['disk', 'snapshot', 'snapshot-delete', 'rollback']);

export type LockOutcome =
  | { kind: 'clear'; cfg: GuestConfig }
  | { kind: 'removed' }
  | { kind: 'unlocked'; cfg: GuestConfig; lock: string }
  | { kind: 'would-remove'; lock: string }
  | { kind: 'would-unlock'; cfg: GuestConfig; lock: string };

export interface LockHandling {
  /** 'target': the guest being ensured (may be removed); 'source': a clone source (only unlocked). */
  role: 'target' | 'source';
  dryRun: boolean;
  onAction(message: string): void;
}

/** Waits while a live operation holds the lock; then clears it if stale. */
export async function settleLock(c: PipelineContext, kind: GuestKindDriver, vmid: number, cfg: GuestConfig, h: LockHandling, o: PipelineOptions): Promise<LockOutcome> {
  let current = cfg;
  const deadline = Date.now() + c.timing.lockWaitMs;
  while (current.values['lock'] && isActive(c, vmid, o)) {
    if (Date.now() >= deadline) {
      throw new LockedError(`${kind.word} ${vmid} is locked (${current.values['lock']}) by a running operation`, { details: { vmid, lock: current.values['lock'] } });
    }
    await sleep(c.timing.lockPollMs, o.signal);
    const next = await readConfig(c, kind, vmid, o);
    if (!next) return { kind: 'removed' };
    current = next;
  }
  const lock = current.values['lock'];
  if (!lock) return { kind: 'clear', cfg: current };
  const guest = guestOps(c, kind, vmid);

  if (HALF_MADE.has(lock) && h.role === 'target') {
    if (h.dryRun) return { kind: 'would-remove', lock };
    h.onAction(`${kind.word} ${vmid} was left half-made (lock ${lock}) by an operation that no longer runs: removing it`);
    await c.inflight.track([vmid], async () => {
      await guest.unlock(sig(o));
      await guest.destroy({ purge: true, destroyUnreferencedDisks: true }, sig(o));
    });
    return { kind: 'removed' };
  }
  if (HALF_MADE.has(lock)) {
    throw new LockedError(`${kind.word} ${vmid} is itself half-made (lock ${lock}); ensure it before cloning from it`, { details: { vmid, lock } });
  }
  if (UNLOCKABLE.has(lock)) {
    if (h.dryRun) return { kind: 'would-unlock', cfg: current, lock };
    h.onAction(`${kind.word} ${vmid} kept lock '${lock}' from an operation that no longer runs: unlocking`);
    await guest.unlock(sig(o));
    const after = await readConfig(c, kind, vmid, o);
    if (!after) throw new NotFoundError(`${kind.word} ${vmid} disappeared while it was unlocked`);
    return { kind: 'unlocked', cfg: after, lock };
  }
  throw new LockedError(`${kind.word} ${vmid} is locked (${lock}); not a lock Phoenix may clear`, { details: { vmid, lock } });
}
