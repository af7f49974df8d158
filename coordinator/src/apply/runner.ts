/**
 * The executor's GuestRunner backed by the agents. Every agent call's idempotency key derives from
 * the journal's key for the guest's attempt, so a takeover by the next leader attaches to or replays
 * the agent's recorded operation instead of acting twice, and a retry after a failure acts anew.
 */
import { errorFromCode } from '@phoenix/shared';
import type { agentv1 } from '@phoenix/shared';
import type { ApplyEvent, GuestRunner } from './execute.js';
import type { AgentClient } from '../agents/index.js';

/** The key of one agent call of a guest's attempt: the attempt's journal key and the call. */
export function idempotencyKey(attemptKey: string, step: 'clone' | 'ensure' | 'delete'): string {
  return `${attemptKey}:${step}`;
}

function check(result: agentv1.OperationResult | undefined, what: string): agentv1.OperationResult {
  if (!result) throw errorFromCode('INTERNAL', `${what}: agent returned no result`);
  if (!result.ok) throw errorFromCode(result.errorCode || 'INTERNAL', `${what}: ${result.errorMessage}`);
  return result;
}

export function agentRunner(clientFor: (node: string) => AgentClient): GuestRunner {
  return {
    async clone(guest, key, signal) {
      if (!guest.spec) return;
      const res = await clientFor(guest.node).cloneGuest(idempotencyKey(key, 'clone'), guest.spec, { signal });
      check(res.result, `clone ${guest.id}`);
    },
    async converge(guest, key, emit: (e: ApplyEvent) => void, signal) {
      if (!guest.spec) return { changed: false };
      const result = await clientFor(guest.node).ensureGuest(
        idempotencyKey(key, 'ensure'),
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
    async remove(guest, key, signal) {
      const res = await clientFor(guest.node).deleteGuest(idempotencyKey(key, 'delete'), guest.vmid, { signal });
      return { changed: check(res.result, `delete ${guest.id}`).changed };
    },
  };
}
