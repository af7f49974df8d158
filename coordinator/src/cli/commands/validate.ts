/** `phoenix validate <spec>`: parse, check and compile a spec; exit 2 naming every bad field. */
import type { Command } from '@commander-js/extra-typings';
import { InvalidArgumentError } from '@phoenix/shared';
import { Option } from '@commander-js/extra-typings';
import { OUTPUT_FORMATS, formatTable, parseFormat, render, type CliIO } from '../io.js';
import { loadSpec } from '../load.js';
import { compileHost } from '../../spec/host-compile.js';

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
      // What `node setup` would leave undone or cannot do, named by field.
      const hosts = compiled.nodes.map((n) => compileHost(compiled, n.name));
      for (const h of hosts) for (const i of h.warnings) io.err(`warning: ${i.path}: ${i.message}\n`);
      const hostError = hosts.flatMap((h) => h.errors)[0];
      if (hostError) throw new InvalidArgumentError(hostError.path, null, hostError.message);
      const containers = compiled.guests.filter((g) => g.kind === 'container' && !g.openshift).length;
      const vms = compiled.guests.filter((g) => g.kind === 'vm' && !g.openshift).length;
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
