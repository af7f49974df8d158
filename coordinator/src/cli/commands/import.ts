/** `phoenix import phoenix|proxshift …`: foreign configs → a spec (YAML on stdout or -o file). */
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import type { CliIO } from '../io.js';

const formatOption = () => new Option('--output <format>', 'yaml or json').choices(['yaml', 'json'] as const).default('yaml' as const);

export function registerImport(program: Command, io: CliIO): void {
  const cmd = program
    .command('import')
    .description('turn Phoenix Hypervisor configs or a ProxShift inventory into a cluster spec')
    .addHelpText(
      'after',
      '\nExamples:\n  phoenix import phoenix /usr/local/phoenix_hypervisor/etc -o cluster.yaml\n  phoenix import proxshift inventory/clusters.yml --site ~/.proxshift/site-config.yaml\n',
    );

  cmd
    .command('phoenix')
    .description('import phoenix_hypervisor_config.json, phoenix_lxc_configs.json, phoenix_vm_configs.json (any era)')
    .argument('<config-dir>', 'folder holding the Phoenix JSON files (or the install root)')
    .option('--node <name>', 'node name of the Phoenix host (default: network.hostname or "phoenix")')
    .option('--cluster <name>', 'cluster name', 'phoenix')
    .option('-o, --out <file>', 'write the spec to this file instead of stdout')
    .addOption(formatOption())
    .action(async (dir, opts) => (await import('../actions/import.js')).importPhoenixCommand(io, dir, opts));

  cmd
    .command('proxshift')
    .description('import a ProxShift inventory (clusters.yml) and optionally its site config')
    .argument('<inventory>', 'Ansible inventory, e.g. inventory/clusters.yml')
    .option('--site <site-config>', 'site-config.yaml (network defaults, Vault item paths, hub)')
    .option('--cluster <name>', 'cluster name', 'proxshift')
    .option('--strict-shared-hosts', 'fail when a host is listed in two clusters (default: keep it in the first, warn)')
    .option('-o, --out <file>', 'write the spec to this file instead of stdout')
    .addOption(formatOption())
    .action(async (inventory, opts) => (await import('../actions/import.js')).importProxShiftCommand(io, inventory, opts));
}
