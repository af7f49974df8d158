/**
 * Commands that act on a live cluster through the coordinators: apply, status, delete, destroy,
 * drain. All read the cluster context from --context or PHOENIX_CONTEXT. The work is in
 * ../actions/cluster.ts, loaded only when one of them runs.
 */
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { OUTPUT_FORMATS, type CliIO } from '../io.js';

const contextOption = () => new Option('--context <file>', 'cluster context file (default: $PHOENIX_CONTEXT)');
const outputOption = () => new Option('--output <format>', 'table, json or yaml').choices(OUTPUT_FORMATS).default('table' as const);
const actions = () => import('../actions/cluster.js');

export function registerClusterCommands(program: Command, io: CliIO): void {
  program
    .command('apply')
    .description('make the cluster match a spec: plan, allocate and converge through the agents')
    .argument('<spec>', 'spec file')
    .addOption(contextOption())
    .addOption(new Option('--output <format>', 'table (progress on stderr) or json (events on stdout)').choices(['table', 'json'] as const).default('table' as const))
    .option('--timeout <seconds>', 'give up waiting after this long (the apply goes on)', '3600')
    .addHelpText('after', '\nExit status: 0 converged, 1 failed, 2 invalid spec (nothing changed), 3 partially applied.\n\nExample:\n  phoenix apply cluster.yaml --context ~/.phoenix/lab.yaml\n')
    .action(async (specPath, opts) => (await actions()).apply(io, specPath, opts));

  program
    .command('delete')
    .description('remove one guest from the cluster and free its VMID, addresses and MAC')
    .argument('<guest>', 'guest name')
    .addOption(contextOption())
    .option('--yes', 'do not ask (required when stdin is not a terminal)')
    .option('--timeout <seconds>', 'give up waiting after this long', '1800')
    .action(async (guest, opts) => (await actions()).removeGuests(io, 'delete', guest, opts));

  program
    .command('destroy')
    .description('remove every guest Phoenix created and free all allocations')
    .addOption(contextOption())
    .option('--yes', 'do not ask (required when stdin is not a terminal)')
    .option('--timeout <seconds>', 'give up waiting after this long', '1800')
    .action(async (opts) => (await actions()).removeGuests(io, 'destroy', undefined, opts));

  program
    .command('status')
    .description('desired state against what the nodes report, guest by guest, with drift per field')
    .addOption(contextOption())
    .addOption(outputOption())
    .action(async (opts) => (await actions()).status(io, opts));

  program
    .command('drain')
    .description('take a node out of scheduling and list the guests that are still on it')
    .argument('<node>', 'node name')
    .addOption(contextOption())
    .option('--undo', 'make the node schedulable again')
    .action(async (node, opts) => (await actions()).drain(io, node, opts));
}
