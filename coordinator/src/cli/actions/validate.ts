/** `phoenix validate`: parse, check and compile a spec; print what it declares. */
import { formatTable, parseFormat, render, type CliIO } from '../io.js';
import { loadSpec } from '../load.js';

export async function validate(io: CliIO, specPath: string, opts: { output: string }): Promise<void> {
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
  await render(io, format, summary, () =>
    `${specPath}: valid\n` +
    formatTable(
      ['CLUSTER', 'NODES', 'CONTAINERS', 'VMS', 'OPENSHIFT', 'TEMPLATES'],
      [[summary.cluster, String(summary.nodes), String(containers), String(vms), String(summary.openshift.length), String(summary.templates)]],
    ),
  );
}
