/** `phoenix plan <spec>`: placements on a view file (offline), or steps and makespan on the live cluster. */
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { OUTPUT_FORMATS, type CliIO } from '../io.js';

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
      const view = opts.view;
      if (view === undefined) return (await import('../actions/cluster.js')).clusterPlan(io, specPath, { context: opts.context, output: opts.output });
      return (await import('../actions/plan.js')).offlinePlan(io, specPath, { ...opts, view });
    });
}
