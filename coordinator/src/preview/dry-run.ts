/**
 * `phoenix plan` against a live cluster: the plan on the stored view (drained nodes take nothing
 * new), previewing VMIDs and addresses without allocating, and for guests that exist a dry run of
 * the agent's pipeline: the steps that would change something, with the agent's reason (e.g.
 * "cores 2 → 3"). Nothing is changed or journaled.
 */
import { randomUUID } from 'node:crypto';
import type { TlsMaterial } from '@phoenix/shared';
import { AgentClient } from '../agents/index.js';
import { buildPlan, estimateSchedule, STEP_SECONDS, type BuiltPlan, type PlannedGuest, type PlanStep } from '../plan/index.js';
import type { CompiledSpec } from '../spec/compile.js';
import type { ClusterView } from '../view/types.js';

export interface LivePlanOptions {
  perNode: number;
  scripts: Record<string, string>;
  /** Agent addresses by node. */
  addresses: ReadonlyMap<string, string>;
  tls: TlsMaterial;
  /** Shown to agents as the requester. */
  requester: string;
}

export async function livePlan(spec: CompiledSpec, view: ClusterView, o: LivePlanOptions): Promise<BuiltPlan> {
  const plan = await buildPlan(spec, view, { limits: { perNode: o.perNode }, scripts: o.scripts });
  await checkExisting(plan.guests, o);
  plan.estimate = estimateSchedule(plan.guests, { perNode: o.perNode });
  return plan;
}

async function checkExisting(guests: PlannedGuest[], o: LivePlanOptions): Promise<void> {
  const clients = new Map<string, AgentClient>();
  try {
    await Promise.all(
      guests
        .filter((g) => g.action === 'none' && g.spec)
        .map(async (g) => {
          const address = o.addresses.get(g.node);
          if (!address) return void (g.steps = [{ name: 'converge', reason: 'exists; its agent has not reported an address, not checked', estSeconds: 0 }]);
          let client = clients.get(g.node);
          if (!client) clients.set(g.node, (client = new AgentClient({ node: g.node, address }, { tls: o.tls, requester: o.requester })));
          const changes: PlanStep[] = [];
          try {
            await client.ensureGuest(`plan-${randomUUID()}`, g.spec!, (e) => {
              if (e.kind?.$case === 'step' && e.kind.value.changed) changes.push({ name: e.kind.value.step, reason: e.kind.value.message, estSeconds: STEP_SECONDS.configure });
            }, { dryRun: true, deadlineMs: 60_000 });
            g.steps = changes;
            if (changes.length > 0) g.action = 'update';
          } catch (err) {
            g.steps = [{ name: 'converge', reason: `exists; not checked (${err instanceof Error ? err.message : String(err)})`, estSeconds: 0 }];
          }
        }),
    );
  } finally {
    for (const c of clients.values()) c.close();
  }
}
