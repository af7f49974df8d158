/** `phoenix import`: foreign configs → a spec (YAML or JSON, on stdout or to a file). */
import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError } from '@phoenix/shared';
import { importPhoenix, type ImportResult } from '../../importers/phoenix/index.js';
import { importProxShift } from '../../importers/proxshift/index.js';
import { specToYaml } from '../../importers/output.js';
import { formatWarning } from '../../importers/warnings.js';
import type { CliIO } from '../io.js';

interface EmitOptions {
  out?: string | undefined;
  output: 'yaml' | 'json';
}

async function emit(io: CliIO, result: ImportResult, opts: EmitOptions): Promise<void> {
  for (const w of result.warnings) io.err(`${formatWarning(w)}\n`);
  const text =
    opts.output === 'json'
      ? `${JSON.stringify(result.spec, null, 2)}\n`
      : specToYaml(result.spec, [result.summary, 'Check it with: phoenix validate <this file>']);
  if (opts.out === undefined) io.out(text);
  else {
    try {
      await writeFile(opts.out, text);
    } catch (cause) {
      throw new InvalidArgumentError('--out', opts.out, 'cannot write', { cause });
    }
    io.err(`wrote ${opts.out} (${result.warnings.length} warning${result.warnings.length === 1 ? '' : 's'})\n`);
  }
}

export async function importPhoenixCommand(io: CliIO, dir: string, opts: EmitOptions & { node?: string | undefined; cluster: string }): Promise<void> {
  await emit(io, await importPhoenix(dir, { node: opts.node, cluster: opts.cluster }), opts);
}

export async function importProxShiftCommand(
  io: CliIO,
  inventory: string,
  opts: EmitOptions & { site?: string | undefined; cluster: string; strictSharedHosts?: true | undefined },
): Promise<void> {
  const result = await importProxShift(inventory, { site: opts.site, cluster: opts.cluster, strictSharedHosts: opts.strictSharedHosts === true });
  await emit(io, result, opts);
}
