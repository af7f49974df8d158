/** A Proxmox template cannot change: a converged one skips the tail, a changed one is refused. */
import { FailedPreconditionError } from '@phoenix/shared';
import { isTemplate } from '../guest-state.js';
import type { TailStep } from './context.js';

export const templateGuard: TailStep = (t) => {
  if (!isTemplate(t.cfg)) return Promise.resolve();
  const { guest, spec } = t;
  if (t.plan.insideWork || t.changedBefore) {
    throw new FailedPreconditionError(`${guest.word} ${spec.vmid} is a Proxmox template and cannot change; remove it and build it again`);
  }
  for (const s of ['start', ...t.features.map((f) => `feature:${f.name}`), 'template']) t.steps.skip(s, `${guest.word} ${spec.vmid} is a template`);
  return Promise.resolve('stop');
};
