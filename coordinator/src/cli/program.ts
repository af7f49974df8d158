/**
 * The `phoenix` command tree. Each command lives in commands/<name>.ts and registers itself here;
 * later commands (apply, status, delete, destroy, drain, certs) are added the same way.
 */
import { Command } from '@commander-js/extra-typings';
import type { CliIO } from './io.js';
import { registerExplain } from './commands/explain.js';
import { registerImport } from './commands/import.js';
import { registerNodes } from './commands/nodes.js';
import { registerNodeSetup } from './commands/node-setup.js';
import { registerPlan } from './commands/plan.js';
import { registerOpenShift } from './commands/openshift.js';
import { registerSecret } from './commands/secret.js';
import { registerValidate } from './commands/validate.js';
import { registerClusterCommands } from './commands/cluster.js';
import { VERSION } from './version.js';

export function buildProgram(io: CliIO): Command {
  const program = new Command()
    .name('phoenix')
    .description('Phoenix: declarative Proxmox VE clusters with GPU-aware placement')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .addHelpText(
      'after',
      `
Exit status: 0 ok, 1 failed, 2 usage or invalid input (nothing changed), 3 partially applied.

Examples:
  phoenix validate cluster.yaml
  phoenix import phoenix /usr/local/phoenix_hypervisor/etc -o cluster.yaml
  phoenix nodes --view view.yaml
  phoenix plan --view view.yaml cluster.yaml
  phoenix explain granite-embedding --view view.yaml cluster.yaml
  phoenix plan cluster.yaml --context lab.yaml      (live cluster: steps, makespan)
  phoenix node setup --all cluster.yaml --dry-run
  phoenix apply cluster.yaml --context lab.yaml
  phoenix status --context lab.yaml
`,
    );
  registerValidate(program, io);
  registerImport(program, io);
  registerNodes(program, io);
  registerPlan(program, io);
  registerExplain(program, io);
  registerClusterCommands(program, io);
  registerNodeSetup(program, io);
  registerSecret(program, io);
  registerOpenShift(program, io);
  return program;
}
