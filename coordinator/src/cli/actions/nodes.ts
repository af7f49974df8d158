/** `phoenix nodes`: capacity, use, GPUs, templates and up/down of every node. */
import { summarizeNode, type NodeSummary } from '../../view/summary.js';
import { formatTable, mib, parseFormat, render, type CliIO } from '../io.js';
import { loadView } from '../load.js';
import { liveView } from './cluster-session.js';

function gpuText(n: NodeSummary): string {
  if (n.gpus.length === 0) return '-';
  return n.gpus
    .map((g) => `${g.index}:${g.model.replace(/^NVIDIA /, '')} ${mib(g.memoryFreeMiB)}/${mib(g.memoryTotalMiB)} free ${g.utilizationPct}%${g.exclusive ? ' (vm)' : g.guests ? ` (${g.guests} ct)` : ''}`)
    .join(', ');
}

export async function showNodes(io: CliIO, opts: { view?: string | undefined; context?: string | undefined; output: string }): Promise<void> {
  const format = parseFormat(opts.output);
  const view = opts.view ? await loadView(opts.view, io) : await liveView(opts.context);
  const nodes = view.nodes.map((n) => summarizeNode(view, n));
  await render(io, format, { observedAt: new Date(view.observedAt).toISOString(), nodes }, () =>
    formatTable(
      ['NODE', 'STATUS', 'CPU', 'MEMORY', 'STORAGE FREE', 'GPUS', 'GUESTS', 'TEMPLATES', 'LABELS'],
      nodes.map((n) => [
        n.name,
        n.status,
        `${n.cpu.allocatedCores}/${n.cpu.cores}`,
        `${mib(n.memory.allocatedMiB)}/${mib(n.memory.totalMiB - n.memory.reservedMiB)}`,
        n.storages.map((s) => `${s.id}:${Math.round(s.freeGiB)}G`).join(' ') || '-',
        gpuText(n),
        String(n.guests.length),
        n.templates.join(' ') || '-',
        Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(',') || '-',
      ]),
    ),
  );
}
