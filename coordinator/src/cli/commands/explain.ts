/** `phoenix explain <guest> --view <file> <spec>`: the chosen node and why, every other node's verdict. */
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { OUTPUT_FORMATS, type CliIO } from '../io.js';
import { strategyOption } from './plan.js';

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
    .action(async (guest, specPath, opts) => (await import('../actions/explain.js')).explainGuest(io, guest, specPath, opts));
}
