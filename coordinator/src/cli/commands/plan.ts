/** `phoenix plan --view <file> <spec>`: where every guest of the spec would go (placements for now). */
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { NoCapacityError } from '@phoenix/shared';
import { schedulerInput } from '../../scheduler/from-spec.js';
import { schedule } from '../../scheduler/schedule.js';
import { OUTPUT_FORMATS, formatTable, parseFormat, render, type CliIO } from '../io.js';
import { loadSpec, loadView, policyFor } from '../load.js';
import { clusterPlan } from './cluster.js';

export const strategyOption = () =>
  new Option('--strategy <strategy>', 'override the spec: binpack or spread').choices(['binpack', 'spread'] as const);

export function registerPlan(program: Command, io: CliIO): void {
  program
    .command('plan')
    .description('place the guests of a spec onto the nodes of a view (changes nothing)')
    .argument('<spec>', 'spec file')
    .option('--view <file>', 'cluster view (YAML or JSON); without it the live cluster of --context is planned')
    .option('--context <file>', 'cluster context file (default: $PHOENIX_CONTEXT)')
    .addOption(strategyOption())
    .addOption(new Option('--output <format>', 'table, json or yaml').choices(OUTPUT_FORMATS).default('table' as const))
    .addHelpText(
      'after',
      '\nExit status 1 when some guest cannot be placed (the reasons are printed).\n\nExamples:\n  phoenix plan --view view.yaml cluster.yaml\n  phoenix plan --view view.yaml cluster.yaml --strategy spread --output json\n',
    )
    .action(async (specPath, opts) => {
      if (!opts.view) return clusterPlan(io, specPath, { context: opts.context, output: opts.output });
      const format = parseFormat(opts.output);
      const { compiled } = await loadSpec(specPath);
      const input = schedulerInput(compiled, await loadView(opts.view, io));
      const policy = policyFor(compiled, opts.strategy);
      const result = schedule(input.view, input.pending, policy);
      const data = {
        strategy: policy.strategy,
        placements: result.placements,
        existing: input.existing,
        unplaced: result.unplaced,
      };
      render(io, format, data, () => {
        let text = formatTable(
          ['GUEST', 'NODE', 'SCORE', 'STORAGE', 'GPUS', 'NOTE'],
          [
            ...result.placements.map((p) => [
              p.guest,
              p.node,
              p.score.toFixed(4),
              p.storages.join(',') || '-',
              p.gpus.join(',') || '-',
              p.templateCopy ? 'template copied to node' : '',
            ]),
            ...input.existing.map((e) => [e.guest, e.node, '-', '-', '-', `exists (vmid ${e.vmid})`]),
          ],
        );
        if (result.unplaced.length > 0) {
          text += `\nNot placed:\n${result.unplaced.map((u) => `  ${u.guest}: ${u.reason}`).join('\n')}\n`;
        }
        return text;
      });
      if (result.unplaced.length > 0) {
        throw new NoCapacityError(
          `${result.unplaced.length} guest${result.unplaced.length === 1 ? '' : 's'} cannot be placed: ${result.unplaced.map((u) => u.guest).join(', ')}`,
        );
      }
    });
}
