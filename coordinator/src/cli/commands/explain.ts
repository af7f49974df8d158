/** `phoenix explain <guest> --view <file> <spec>`: the chosen node and why, every other node's verdict. */
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { InvalidArgumentError } from '@phoenix/shared';
import { schedulerInput } from '../../scheduler/from-spec.js';
import { explain } from '../../scheduler/schedule.js';
import { OUTPUT_FORMATS, formatTable, parseFormat, render, type CliIO } from '../io.js';
import { loadSpec, loadView, policyFor } from '../load.js';
import { strategyOption } from './plan.js';
import { liveView } from './cluster-session.js';

export function registerExplain(program: Command, io: CliIO): void {
  program
    .command('explain')
    .description('why a guest goes to its node, and why every other node was rejected or scored lower')
    .argument('<guest>', 'guest name (container, VM or OpenShift node)')
    .argument('<spec>', 'spec file')
    .option('--view <file>', 'cluster view (YAML or JSON); without it the live view of --context')
    .option('--context <file>', 'cluster context file (default: $PHOENIX_CONTEXT)')
    .addOption(strategyOption())
    .addOption(new Option('--output <format>', 'table, json or yaml').choices(OUTPUT_FORMATS).default('table' as const))
    .addHelpText('after', '\nExamples:\n  phoenix explain granite-embedding --view view.yaml cluster.yaml\n  phoenix explain granite-embedding cluster.yaml --context lab.yaml\n')
    .action(async (guest, specPath, opts) => {
      const format = parseFormat(opts.output);
      const { compiled } = await loadSpec(specPath);
      if (!compiled.guests.some((g) => g.name === guest)) {
        throw new InvalidArgumentError('guest', guest, `not a guest of ${specPath}`);
      }
      const input = schedulerInput(compiled, opts.view ? await loadView(opts.view, io) : await liveView(opts.context));
      const existing = input.existing.find((e) => e.guest === guest);
      if (existing) {
        render(io, format, { guest, existing }, () => `${guest} already exists on ${existing.node} (vmid ${existing.vmid}); nothing to place\n`);
        return;
      }
      const ex = explain(input.view, input.pending, policyFor(compiled, opts.strategy), guest);
      render(io, format, ex, () => {
        const d = ex.decision;
        const feasible = ex.nodes.filter((n) => n.verdict !== 'rejected').length;
        const head =
          d.node !== undefined
            ? `${guest} → ${d.node} (score ${d.score ?? 0}; ${feasible} of ${ex.nodes.length} nodes feasible with the rest of the plan in place)\n`
            : `${guest} → not placed: no node passes every filter\n`;
        return head + formatTable(['NODE', 'VERDICT', 'WHY'], ex.nodes.map((n) => [n.node, n.verdict === 'rejected' ? `rejected (${n.filter})` : n.verdict, n.message]));
      });
    });
}
