/** `phoenix nodes --view <file>`: capacity, use, GPUs, templates and up/down of every node. */
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { OUTPUT_FORMATS, type CliIO } from '../io.js';

export function registerNodes(program: Command, io: CliIO): void {
  program
    .command('nodes')
    .description('show the nodes of a cluster view')
    .option('--view <file>', 'cluster view (YAML or JSON); without it the live view of --context')
    .option('--context <file>', 'cluster context file (default: $PHOENIX_CONTEXT)')
    .addOption(new Option('--output <format>', 'table, json or yaml').choices(OUTPUT_FORMATS).default('table' as const))
    .addHelpText('after', '\nExamples:\n  phoenix nodes --view view.yaml\n  phoenix nodes --view view.yaml --output json\n')
    .action(async (opts) => (await import('../actions/nodes.js')).showNodes(io, opts));
}
