/** `phoenix validate`: parse, check and compile a spec; print what it declares. */
import { formatTable, parseFormat, render, type CliIO } from '../io.js';
import { InvalidArgumentError } from '@phoenix/shared';
import { compileHost } from '../../spec/host-compile.js';
import { loadSpec } from '../load.js';

export async function validate(io: CliIO, specPath: string, opts: { output: string }): Promise<void> {
  const format = parseFormat(opts.output);
  const { compiled } = await loadSpec(specPath);
  // What `node setup` would leave undone or cannot do, named by field.
  const hosts = compiled.nodes.map((n) => compileHost(compiled, n.name));
  for (const h of hosts) for (const i of h.warnings) io.err(`warning: ${i.path}: ${i.message}\n`);
  const hostError = hosts.flatMap((h) => h.errors)[0];
  if (hostError) throw new InvalidArgumentError(hostError.path, null, hostError.message);
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
