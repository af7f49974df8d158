/** `phoenix validate <spec>`: parse, check and compile a spec; exit 2 naming every bad field. */
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { OUTPUT_FORMATS, formatTable, parseFormat, render, type CliIO } from '../io.js';
import { loadSpec } from '../load.js';

export function registerValidate(program: Command, io: CliIO): void {
  program
    .command('validate')
    .description('check a cluster spec: schema, defaults, templates, references, duplicates')
    .argument('<spec>', 'spec file (YAML or JSON)')
    .addOption(new Option('--output <format>', 'table, json or yaml').choices(OUTPUT_FORMATS).default('table' as const))
    .addHelpText('after', '\nExamples:\n  phoenix validate cluster.yaml\n  phoenix validate cluster.yaml --output json\n')
    .action(async (specPath, opts) => {
      const format = parseFormat(opts.output);
      const { compiled } = await loadSpec(specPath);
      const containers = compiled.guests.filter((g) => g.kind === 'container').length;
      const vms = compiled.guests.filter((g) => g.kind === 'vm' && !g.vm.openshift).length;
      const summary = {
        valid: true,
        cluster: compiled.cluster.name,
        nodes: compiled.nodes.length,
        containers,
        vms,
        openshift: compiled.openshift.map((c) => ({ name: c.spec.name, topology: c.spec.topology, nodes: c.spec.nodes.length })),
        templates: compiled.templates.size,
        buildOrder: compiled.buildOrder,
      };
      render(io, format, summary, () =>
        `${specPath}: valid\n` +
        formatTable(
          ['CLUSTER', 'NODES', 'CONTAINERS', 'VMS', 'OPENSHIFT', 'TEMPLATES'],
          [[summary.cluster, String(summary.nodes), String(containers), String(vms), String(summary.openshift.length), String(summary.templates)]],
        ),
      );
    });
}
