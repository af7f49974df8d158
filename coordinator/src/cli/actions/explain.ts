/** `phoenix explain`: the chosen node for one guest and every other node's verdict. */
import { InvalidArgumentError } from '@phoenix/shared';
import { schedulerInput } from '../../scheduler/from-spec.js';
import { explain } from '../../scheduler/schedule.js';
import { formatTable, parseFormat, render, type CliIO } from '../io.js';
import { loadSpec, loadView, policyFor } from '../load.js';
import { liveView } from './cluster-session.js';

export interface ExplainOptions {
  view?: string | undefined;
  context?: string | undefined;
  strategy?: 'binpack' | 'spread' | undefined;
  output: string;
}

export async function explainGuest(io: CliIO, guest: string, specPath: string, opts: ExplainOptions): Promise<void> {
  const format = parseFormat(opts.output);
  const { compiled } = await loadSpec(specPath);
  if (!compiled.guests.some((g) => g.name === guest)) {
    throw new InvalidArgumentError('guest', guest, `not a guest of ${specPath}`);
  }
  const input = schedulerInput(compiled, opts.view ? await loadView(opts.view, io) : await liveView(opts.context));
  const existing = input.existing.find((e) => e.guest === guest);
  if (existing) {
    await render(io, format, { guest, existing }, () => `${guest} already exists on ${existing.node} (vmid ${existing.vmid}); nothing to place\n`);
    return;
  }
  const ex = explain(input.view, input.pending, policyFor(compiled, opts.strategy), guest);
  await render(io, format, ex, () => {
    const d = ex.decision;
    const feasible = ex.nodes.filter((n) => n.verdict !== 'rejected').length;
    const head =
      d.node !== undefined
        ? `${guest} → ${d.node} (score ${d.score ?? 0}; ${feasible} of ${ex.nodes.length} nodes feasible with the rest of the plan in place)\n`
        : `${guest} → not placed: no node passes every filter\n`;
    return head + formatTable(['NODE', 'VERDICT', 'WHY'], ex.nodes.map((n) => [n.node, n.verdict === 'rejected' ? `rejected (${n.filter})` : n.verdict, n.message]));
  });
}
