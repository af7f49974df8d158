/**
 * `nvidia-smi topo -m` and the rows of `nvidia-smi dmon`, laid out as the capture shows them
 * (topo keeps its ANSI underline even when stdout is not a terminal).
 */
import type { EmulatedGpu } from './state.js';
import { dmonDate, dmonTime, lpad, rpad } from './text-format.js';

const LEGEND = [
  '',
  'Legend:',
  '',
  '  X    = Self',
  '  SYS  = Connection traversing PCIe as well as the SMP interconnect between NUMA nodes (e.g., QPI/UPI)',
  '  NODE = Connection traversing PCIe as well as the interconnect between PCIe Host Bridges within a NUMA node',
  '  PHB  = Connection traversing PCIe as well as a PCIe Host Bridge (typically the CPU)',
  '  PXB  = Connection traversing multiple PCIe bridges (without traversing the PCIe Host Bridge)',
  '  PIX  = Connection traversing at most a single PCIe bridge',
  '  NV#  = Connection traversing a bonded set of # NVLinks',
];

function link(a: EmulatedGpu, b: EmulatedGpu): string {
  if (a.nvlinks > 0 && b.nvlinks > 0) return `NV${Math.min(a.nvlinks, b.nvlinks)}`;
  if (a.numaNode !== null && a.numaNode === b.numaNode) return 'NODE';
  return 'SYS';
}

export function renderTopo(gpus: readonly EmulatedGpu[]): string {
  const names = gpus.map((g) => `GPU${g.index}`);
  const lines = [`\t\x1b[4m${[...names, 'CPU Affinity', 'NUMA Affinity', 'GPU NUMA ID'].join('\t')}\x1b[0m`];
  for (const a of gpus) {
    const cells = gpus.map((b) => (a === b ? ' X ' : link(a, b)));
    const numa = a.numaNode === null ? 'N/A' : String(a.numaNode);
    lines.push(`GPU${a.index}\t${cells.join('\t')}\t${a.cpuAffinity}\t${numa}\t\tN/A`);
  }
  return `${[...lines, ...LEGEND].join('\n')}\n`;
}

export interface DmonOptions {
  /** Metric groups: p (power/temp), u (utilisation), c (clocks), m (memory). */
  groups: string;
  date: boolean;
  time: boolean;
}

interface Column {
  name: string;
  unit: string;
  value: (g: EmulatedGpu) => string | number;
}

const GROUPS: Record<string, Column[]> = {
  p: [
    { name: 'pwr', unit: 'W', value: (g) => Math.round(g.powerDrawInstantW) },
    { name: 'gtemp', unit: 'C', value: (g) => g.temperatureGpu },
    { name: 'mtemp', unit: 'C', value: (g) => g.temperatureMemory ?? '-' },
  ],
  u: [
    { name: 'sm', unit: '%', value: (g) => g.utilizationGpu },
    { name: 'mem', unit: '%', value: (g) => g.utilizationMemory },
    { name: 'enc', unit: '%', value: (g) => g.utilizationEncoder },
    { name: 'dec', unit: '%', value: (g) => g.utilizationDecoder },
    { name: 'jpg', unit: '%', value: (g) => g.utilizationJpeg },
    { name: 'ofa', unit: '%', value: (g) => g.utilizationOfa },
  ],
  c: [
    { name: 'mclk', unit: 'MHz', value: (g) => g.clocks.memory },
    { name: 'pclk', unit: 'MHz', value: (g) => g.clocks.sm },
  ],
  m: [
    { name: 'fb', unit: 'MB', value: (g) => g.memoryUsedMiB },
    { name: 'bar1', unit: 'MB', value: (g) => g.bar1UsedMiB },
    { name: 'ccpm', unit: 'MB', value: () => 0 },
  ],
};

/** Valid -s letters in the order dmon prints their columns. */
export const DMON_GROUP_ORDER = 'pucm';

function columns(opts: DmonOptions): Column[] {
  return [...DMON_GROUP_ORDER].filter((k) => opts.groups.includes(k)).flatMap((k) => GROUPS[k] ?? []);
}

function prefix(opts: DmonOptions, first: string, second: string, d: Date | null): { head: string; row: string } {
  if (!opts.date && !opts.time) return { head: '', row: '' };
  let head = '';
  let row = '';
  if (opts.date) {
    head += rpad(first === 'name' ? '#Date' : '#YYYYMMDD', 9) + '   ';
    row += ` ${d === null ? '' : dmonDate(d)}   `;
  }
  if (opts.time) {
    const h = second === 'name' ? 'Time' : 'HH:MM:SS';
    head += opts.date ? rpad(h, 8) : rpad(`#${h}`, 9);
    row += opts.date ? (d === null ? '' : dmonTime(d)) : ` ${d === null ? '' : dmonTime(d)}`;
  }
  return { head, row };
}

export function dmonHeader(opts: DmonOptions): string {
  const cols = columns(opts);
  const dated = opts.date || opts.time;
  const p1 = prefix(opts, 'name', 'name', null).head;
  const p2 = prefix(opts, 'unit', 'unit', null).head;
  const l1 = `${p1}${dated ? lpad('gpu', 7) : '# gpu'}${cols.map((c) => lpad(c.name, 7)).join('')} `;
  const l2 = `${p2}${dated ? lpad('Idx', 7) : '# Idx'}${cols.map((c) => lpad(c.unit, 7)).join('')} `;
  return `${l1}\n${l2}\n`;
}

export function dmonRows(opts: DmonOptions, gpus: readonly EmulatedGpu[], now: Date): string {
  const cols = columns(opts);
  const dated = opts.date || opts.time;
  const pre = prefix(opts, 'name', 'name', now).row;
  return gpus
    .map((g) => `${pre}${lpad(g.index, dated ? 7 : 5)}${cols.map((c) => lpad(c.value(g), 7)).join('')} \n`)
    .join('');
}
