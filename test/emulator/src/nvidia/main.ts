/**
 * Entry of the emulated host `nvidia-smi` (test/emulator/bin/nvidia-smi). The node is the one of
 * `$PVE_EMU_STATE`; its GPUs live in `$PVE_EMU_STATE/gpus.json` (state.ts).
 *
 * SIGTERM/SIGINT keep their default action (the process dies at once, as the real tool does);
 * a closed stdout ends a sampling loop at the next write with status 141, like death by SIGPIPE.
 */
import { runNvidiaSmi, streamOutput } from './cli.js';

export const EXIT_EMULATOR_MISCONFIGURED = 255;

export async function main(argv: string[]): Promise<number> {
  const stateDir = process.env['PVE_EMU_STATE'];
  if (stateDir === undefined || stateDir === '') {
    process.stderr.write('nvidia-smi (emulator): PVE_EMU_STATE is not set\n');
    return EXIT_EMULATOR_MISCONFIGURED;
  }
  const out = streamOutput(process.stdout);
  const code = await runNvidiaSmi(argv, { stateDir, out });
  return out.closed() ? 141 : code;
}
