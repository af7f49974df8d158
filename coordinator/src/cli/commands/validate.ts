/** `phoenix validate <spec>`: parse, check and compile a spec; exit 2 naming every bad field. */
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { OUTPUT_FORMATS, type CliIO } from '../io.js';

export function registerValidate(program: Command, io: CliIO): void {
  program
    .command('validate')
    .description('check a cluster spec: schema, defaults, templates, references, duplicates')
    .argument('<spec>', 'spec file (YAML or JSON)')
    .addOption(new Option('--output <format>', 'table, json or yaml').choices(OUTPUT_FORMATS).default('table' as const))
    .addHelpText('after', '\nExamples:\n  phoenix validate cluster.yaml\n  phoenix validate cluster.yaml --output json\n')
    .action(async (specPath, opts) => (await import('../actions/validate.js')).validate(io, specPath, opts));
}
