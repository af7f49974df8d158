/**
 * The executor's GuestRunner backed by the agents: idempotency keys derive from the apply run and
 * the guest, so a retry — by this coordinator or by the next leader — attaches to or replays the
 * agent's recorded operation instead of acting twice.
 */
import { errorFromCode } from '@phoenix/shared';
import type { agentv1 } from '@phoenix/shared';
import type { ApplyEvent, GuestRunner } from '../reconcile/execute.js';
import type { PlannedGuest } from '../reconcile/types.js';
import type { AgentClient } from './client.js';

export function idempotencyKey(runId: string, guest: PlannedGuest, step: string): string {
  return `${runId}:${guest.id}:${guest.vmid}:${step}`;
}

function check(result: agentv1.OperationResult | undefined, what: string): agentv1.OperationResult {
  if (!result) throw errorFromCode('INTERNAL', `${what}: agent returned no result`);
  if (!result.ok) throw errorFromCode(result.errorCode || 'INTERNAL', `${what}: ${result.errorMessage}`);
  return result;
}

export function agentRunner(runId: string, clientFor: (node: string) => AgentClient): GuestRunner {
  return {
    async clone(guest, signal) {
      if (!guest.spec) return;
      const res = await clientFor(guest.node).cloneGuest(idempotencyKey(runId, guest, 'clone'), guest.spec, { signal });
      check(res.result, `clone ${guest.id}`);
    },
    async converge(guest, emit: (e: ApplyEvent) => void, signal) {
      if (!guest.spec) return { changed: false };
      const result = await clientFor(guest.node).ensureGuest(
        idempotencyKey(runId, guest, 'ensure'),
        guest.spec,
        (event) => {
          const kind = event.kind;
          if (kind?.$case === 'step') {
            emit({ type: 'progress', guest, step: kind.value.step, state: String(kind.value.state), message: kind.value.message });
          } else if (kind?.$case === 'log') {
            emit({ type: 'log', guest, step: kind.value.step, line: kind.value.line });
          }
        },
        { signal },
      );
      return { changed: check(result, `ensure ${guest.id}`).changed };
    },
    async remove(guest, signal) {
      const res = await clientFor(guest.node).deleteGuest(idempotencyKey(runId, guest, 'delete'), guest.vmid, { signal });
      return { changed: check(res.result, `delete ${guest.id}`).changed };
    },
  };
}
