/** Typed failures of host setup (stable codes from the shared taxonomy). */
import { FailedPreconditionError } from '@phoenix/shared';
import type { HostRefusal } from './types.js';

/** A pool would be created on disks that hold data; nothing was changed. */
export class UnsafeDiskError extends FailedPreconditionError {
  constructor(readonly refusals: readonly HostRefusal[]) {
    super(
      `refusing to create ${[...new Set(refusals.map((r) => r.pool))].map((p) => `pool ${p}`).join(', ')}: ${refusals
        .map((r) => `${r.disk} ${r.reason}`)
        .join('; ')}. Nothing was changed.`,
      { details: { reason: 'UNSAFE_DISK', refusals: refusals.map((r) => ({ ...r })) } },
    );
  }
}
