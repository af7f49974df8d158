/**
 * `phoenix node setup`: sends each node its compiled host spec (SetupHost) and gathers what every
 * node reported. Nodes run one after another, so the output of one node stays together.
 */
import { randomUUID } from 'node:crypto';
import { agentv1, isPhoenixError } from '@phoenix/shared';
import type { AgentClient } from '../agents/index.js';
import type { CompiledSpec } from '../spec/compile.js';
import { compileHost, type CompiledHost } from '../spec/host-compile.js';

export interface NodeSetupOptions {
  dryRun: boolean;
  clientFor(node: string): AgentClient;
  /** Every streamed event, with the node it came from. */
  onEvent(node: string, event: agentv1.OperationEvent): void;
  signal?: AbortSignal;
}

export interface NodeSetupResult {
  node: string;
  host: CompiledHost;
  ok: boolean;
  changed: boolean;
  changedSteps: string[];
  errorCode: string;
  error: string;
}

export async function setupNodes(spec: CompiledSpec, nodes: readonly string[], o: NodeSetupOptions): Promise<NodeSetupResult[]> {
  const results: NodeSetupResult[] = [];
  for (const node of nodes) {
    const host = compileHost(spec, node);
    const base = { node, host, changed: false, changedSteps: [] as string[] };
    if (host.errors.length > 0) {
      results.push({ ...base, ok: false, errorCode: 'INVALID_ARGUMENT', error: host.errors.map((e) => `${e.path}: ${e.message}`).join('; ') });
      continue;
    }
    try {
      // A fresh key per run: a second run must look at the node again, not replay the first.
      const key = `host-setup:${node}:${randomUUID()}`;
      const res = await o.clientFor(node).setupHost(key, host.spec, (e) => o.onEvent(node, e), { dryRun: o.dryRun, ...(o.signal ? { signal: o.signal } : {}) });
      results.push({ ...base, ok: res.ok, changed: res.changed, changedSteps: res.changedSteps, errorCode: res.errorCode, error: res.errorMessage });
    } catch (err) {
      results.push({ ...base, ok: false, errorCode: isPhoenixError(err) ? err.code : 'INTERNAL', error: err instanceof Error ? err.message : String(err) });
    }
  }
  return results;
}

const STATE_MARK: Record<number, string> = {
  [agentv1.StepState.STARTED]: '…',
  [agentv1.StepState.DONE]: '✓',
  [agentv1.StepState.SKIPPED]: '·',
  [agentv1.StepState.FAILED]: '✗',
};

/** One line per event for people: steps with a mark, commands and diff lines indented. */
export function formatSetupEvent(node: string, e: agentv1.OperationEvent): string | undefined {
  const k = e.kind;
  if (!k) return undefined;
  if (k.$case === 'step') {
    if (k.value.state === agentv1.StepState.STARTED) return undefined;
    return `${node}  ${STATE_MARK[k.value.state] ?? ' '} ${k.value.step.padEnd(40)} ${k.value.message}`;
  }
  if (k.$case === 'log') return `${node}      ${k.value.line}`;
  return undefined;
}
