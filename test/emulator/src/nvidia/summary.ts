/**
 * `nvidia-smi` with no query: the summary table and the process list, in the layout of the
 * 570/580 drivers (the capture's). Column widths are fixed; long names are cut as the driver cuts them.
 */
import type { DriverInfo, EmulatedGpu } from './state.js';
import { ctimeStamp, lpad, rpad } from './text-format.js';

const RULE = `+${'-'.repeat(41)}+${'-'.repeat(24)}+${'-'.repeat(22)}+`;
const WIDE_RULE = `+${'-'.repeat(89)}+`;

const HEADER = [
  '| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |',
  '| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |',
  '|                                         |                        |               MIG M. |',
  `|${'='.repeat(41)}+${'='.repeat(24)}+${'='.repeat(22)}|`,
];

/** Names longer than the column keep their first 24 characters and gain "...". */
function productName(name: string): string {
  return name.length > 27 ? `${name.slice(0, 24)}...` : name;
}

function computeModeShort(mode: EmulatedGpu['computeMode']): string {
  if (mode === 'Exclusive_Process') return 'E. Process';
  return mode;
}

function gpuRows(g: EmulatedGpu): string[] {
  const c1a = `${lpad(g.index, 4)}  ${rpad(productName(g.name), 29)}  ${rpad(g.persistenceMode ? 'On' : 'Off', 3)} `;
  const c2a = `${lpad(g.pciBusId, 19)} ${lpad(g.displayActive ? 'On' : 'Off', 3)} `;
  const c3a = `${lpad(g.eccEnabled ? '0' : 'Off', 21)} `;

  const fan = g.fanSpeedPercent === null ? 'N/A' : `${g.fanSpeedPercent}%`;
  const left = `${lpad(fan, 4)}${lpad(g.temperatureGpu, 5)}C${lpad(g.pstate, 6)}`;
  const right = `${Math.trunc(g.powerDrawW)}W / ${lpad(Math.trunc(g.powerLimitW), 4)}W `;
  const c1b = left + ' '.repeat(Math.max(1, 41 - left.length - right.length)) + right;
  const c2b = `${lpad(g.memoryUsedMiB, 8)}MiB / ${lpad(g.memoryTotalMiB, 6)}MiB `;
  const c3b = `${lpad(`${g.utilizationGpu}%`, 8)}${lpad(computeModeShort(g.computeMode), 13)} `;

  const c3c = `${lpad(g.migMode ?? 'N/A', 21)} `;
  return [`|${c1a}|${c2a}|${c3a}|`, `|${c1b}|${c2b}|${c3b}|`, `|${' '.repeat(41)}|${' '.repeat(24)}|${c3c}|`, RULE];
}

function processName(name: string): string {
  return name.length > 32 ? `...${name.slice(name.length - 29)}` : name;
}

function processRows(gpus: readonly EmulatedGpu[]): string[] {
  const rows: string[] = [];
  for (const g of gpus) {
    for (const p of g.computeApps) {
      rows.push(
        `|${lpad(g.index, 5)}   N/A  N/A${lpad(p.pid, 16)}${lpad(p.type, 7)}   ${rpad(processName(p.name), 32)}` +
          `${lpad(`${p.usedMemoryMiB}MiB`, 14)} |`,
      );
    }
  }
  if (rows.length === 0) rows.push(`|  ${rpad('No running processes found', 87)}|`);
  return rows;
}

export function renderSummary(driver: DriverInfo, gpus: readonly EmulatedGpu[], now: Date): string {
  const title =
    `| ${rpad(`NVIDIA-SMI ${driver.version}`, 34)}${rpad(`Driver Version: ${driver.version}`, 31)}` +
    `${rpad(`CUDA Version: ${driver.cudaVersion}`, 22)} |`;
  const lines = [
    `${ctimeStamp(now)}       `,
    WIDE_RULE,
    title,
    RULE,
    ...HEADER,
    ...gpus.flatMap(gpuRows),
    '',
    WIDE_RULE,
    `| ${rpad('Processes:', 88)}|`,
    '|  GPU   GI   CI              PID   Type   Process name                        GPU Memory |',
    '|        ID   ID                                                               Usage      |',
    `|${'='.repeat(89)}|`,
    ...processRows(gpus),
    WIDE_RULE,
  ];
  return `${lines.join('\n')}\n`;
}

/** `nvidia-smi -L`. */
export function renderList(gpus: readonly EmulatedGpu[]): string {
  return gpus.map((g) => `GPU ${g.index}: ${g.name} (UUID: ${g.uuid})\n`).join('');
}
