/** Entry of the `phoenix` bin: runs the command, maps any error to the shared exit codes. */
import { CommanderError } from '@commander-js/extra-typings';
import { config as zodConfig } from 'zod/v4/core';
import { ExitCode, exitCodeOf, isPhoenixError } from '@phoenix/shared';
import { processIO, type CliIO } from './io.js';
import { buildProgram } from './program.js';

export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const program = buildProgram(io);
  // commander exits through exitOverride; subcommands inherit it
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.OK;
      if (err.code === 'commander.help') return err.exitCode === 0 ? ExitCode.OK : ExitCode.INVALID;
      // commander has printed the message already
      return ExitCode.INVALID;
    }
    const message = err instanceof Error ? err.message : String(err);
    const [first = '', ...rest] = message.split('\n');
    io.err(`error: ${first}\n${rest.map((l) => `  ${l}\n`).join('')}`);
    if (!isPhoenixError(err) && process.env['PHOENIX_DEBUG'] && err instanceof Error) io.err(`${err.stack ?? ''}\n`);
    return exitCodeOf(err);
  }
}

export async function run(): Promise<void> {
  // One command, one parse of each schema: compiling zod's fast paths costs more than they save.
  zodConfig({ jitless: true });
  process.exitCode = await main(process.argv.slice(2));
}
