/**
 * `phoenix node setup <node>|--all <spec> [--dry-run]`: prepares nodes themselves from the spec's
 * host profiles (pools, datasets, storages, AppArmor, subordinate ids, bind-mount sources). With
 * --dry-run the agents print the exact commands and file diffs and change nothing.
 */
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import type { CliIO } from '../io.js';

export function registerNodeSetup(program: Command, io: CliIO): void {
  const node = program.command('node').description('act on the nodes themselves');
  node
    .command('setup')
    .description("prepare nodes from the spec's host profiles and what its containers need from a host")
    .argument('[node]', 'node to set up (or --all)')
    .argument('[spec]', 'spec file')
    .option('--all', 'every node of the spec')
    .option('--dry-run', 'print the exact commands and file diffs; change nothing')
    .addOption(new Option('--context <file>', 'cluster context file (default: $PHOENIX_CONTEXT)'))
    .addHelpText('after', '\nExit status: 0 done, 1 failed, 2 invalid input (nothing changed), 3 partially applied.\n\nExamples:\n  phoenix node setup pve1 cluster.yaml --dry-run\n  phoenix node setup --all cluster.yaml\n')
    .action(async (nodeArg, specArg, opts) => (await import('../actions/node-setup.js')).nodeSetup(io, nodeArg, specArg, opts));
}
