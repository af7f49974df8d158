/**
 * `phoenix secret put|rm|list|keygen`: secrets sealed to the coordinators' key in NATS KV. The CLI
 * can store and remove them but never read them back; values come from a file or stdin, never
 * from the command line (which other users of the host can see).
 */
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { OUTPUT_FORMATS, type CliIO } from '../io.js';

export function registerSecret(program: Command, io: CliIO): void {
  const secret = program.command('secret').description('store secrets the coordinators can read (sealed in the cluster KV)');
  secret
    .command('put')
    .description('store a secret (replaces what is stored at the path)')
    .argument('<path>', 'secret path, e.g. openshift/pull-secret')
    .option('--from-file <file>', 'read the value from this file')
    .option('--stdin', 'read the value from standard input')
    .option('--field <name>', 'field name inside the secret', 'value')
    .option('--context <file>', 'cluster context file (default: $PHOENIX_CONTEXT)')
    .addHelpText('after', '\nExamples:\n  phoenix secret put openshift/pull-secret --from-file ~/pull-secret.json\n  cat id_ed25519.pub | phoenix secret put openshift/ssh-key --stdin\n')
    .action(async (path, opts) => (await import('../actions/secret.js')).putSecret(io, path, opts));
  secret
    .command('rm')
    .description('remove a secret and its history')
    .argument('<path>', 'secret path')
    .option('--context <file>', 'cluster context file (default: $PHOENIX_CONTEXT)')
    .action(async (path, opts) => (await import('../actions/secret.js')).removeSecret(io, path, opts));
  secret
    .command('list')
    .description('list stored secret paths (never values)')
    .option('--context <file>', 'cluster context file (default: $PHOENIX_CONTEXT)')
    .addOption(new Option('--output <format>', 'table, json or yaml').choices(OUTPUT_FORMATS).default('table' as const))
    .action(async (opts) => (await import('../actions/secret.js')).listSecrets(io, opts));
  secret
    .command('keygen')
    .description("write a new coordinators' secrets key (X25519, PEM) for secrets.keyFile")
    .requiredOption('-o, --out <file>', 'where to write it (created with mode 0600; never overwritten)')
    .action(async (opts) => (await import('../actions/secret.js')).keygen(io, opts));
}
