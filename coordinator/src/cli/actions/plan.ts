/** `phoenix plan --view <file>`: where every guest of the spec would go, offline. */
import { NoCapacityError } from '@phoenix/shared';
import { schedulerInput } from '../../scheduler/from-spec.js';
import { schedule } from '../../scheduler/schedule.js';
import { formatTable, parseFormat, render, type CliIO } from '../io.js';
import { loadSpec, loadView, policyFor } from '../load.js';

export interface OfflinePlanOptions {
  view: string;
  strategy?: 'binpack' | 'spread' | undefined;
  output: string;
}

export async function offlinePlan(io: CliIO, specPath: string, opts: OfflinePlanOptions): Promise<void> {
  const format = parseFormat(opts.output);
  const { compiled } = await loadSpec(specPath);
  const input = schedulerInput(compiled, await loadView(opts.view, io));
  const policy = policyFor(compiled, opts.strategy);
  const result = schedule(input.view, input.pending, policy);
  const data = {
    strategy: policy.strategy,
    placements: result.placements,
    existing: input.existing,
    unplaced: result.unplaced,
  };
  await render(io, format, data, () => {
    let text = formatTable(
      ['GUEST', 'NODE', 'SCORE', 'STORAGE', 'GPUS', 'NOTE'],
      [
        ...result.placements.map((p) => [
          p.guest,
          p.node,
          p.score.toFixed(4),
          p.storages.join(',') || '-',
          p.gpus.join(',') || '-',
          p.templateCopy ? 'template copied to node' : '',
        ]),
        ...input.existing.map((e) => [e.guest, e.node, '-', '-', '-', `exists (vmid ${e.vmid})`]),
      ],
    );
    if (result.unplaced.length > 0) {
      text += `\nNot placed:\n${result.unplaced.map((u) => `  ${u.guest}: ${u.reason}`).join('\n')}\n`;
    }
    return text;
  });
  if (result.unplaced.length > 0) {
    throw new NoCapacityError(
      `${result.unplaced.length} guest${result.unplaced.length === 1 ? '' : 's'} cannot be placed: ${result.unplaced.map((u) => u.guest).join(', ')}`,
    );
  }
}
