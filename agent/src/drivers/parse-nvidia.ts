/**
 * Parsers for nvidia-smi: the `--query-gpu=… --format=csv,noheader,nounits` rows (values the GPU
 * does not have print as `[N/A]`, `[Not Supported]`, …), the driver version file and the summary
 * header. Tested against real captures in test/fixtures/nvidia/.
 */

/** The fields Phoenix queries, in order (the same list as the real capture). */
export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'pci.bus_id',
  'driver_version',
  'memory.total',
  'memory.used',
  'memory.free',
  'utilization.gpu',
  'utilization.memory',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'fan.speed',
  'clocks.sm',
  'clocks.mem',
  'compute_mode',
  'mig.mode.current',
] as const;

export interface GpuSample {
  index: number;
  uuid: string;
  name: string;
  pciBusId: string;
  driverVersion: string;
  memoryTotalMib: number | undefined;
  memoryUsedMib: number | undefined;
  memoryFreeMib: number | undefined;
  utilizationGpuPercent: number | undefined;
  utilizationMemoryPercent: number | undefined;
  temperatureC: number | undefined;
  powerDrawW: number | undefined;
  powerLimitW: number | undefined;
  fanSpeedPercent: number | undefined;
  clockSmMhz: number | undefined;
  clockMemMhz: number | undefined;
  computeMode: string | undefined;
  migMode: string | undefined;
}

/** A value nvidia-smi prints when a GPU lacks the property (bracketed, or bare N/A). */
export function isUnavailable(v: string): boolean {
  return /^\[.*\]$/.test(v) || v === 'N/A' || v === '';
}

function numberOrUndefined(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (isUnavailable(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

function textOrUndefined(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  return isUnavailable(t) ? undefined : t;
}

/** One CSV row of GPU_QUERY_FIELDS; undefined for a line that is not such a row. */
export function parseGpuQueryLine(line: string): GpuSample | undefined {
  const f = line.split(', ');
  if (f.length !== GPU_QUERY_FIELDS.length) return undefined;
  const index = Number(f[0]);
  if (!Number.isInteger(index)) return undefined;
  return {
    index,
    uuid: (f[1] ?? '').trim(),
    name: (f[2] ?? '').trim(),
    pciBusId: (f[3] ?? '').trim(),
    driverVersion: (f[4] ?? '').trim(),
    memoryTotalMib: numberOrUndefined(f[5]),
    memoryUsedMib: numberOrUndefined(f[6]),
    memoryFreeMib: numberOrUndefined(f[7]),
    utilizationGpuPercent: numberOrUndefined(f[8]),
    utilizationMemoryPercent: numberOrUndefined(f[9]),
    temperatureC: numberOrUndefined(f[10]),
    powerDrawW: numberOrUndefined(f[11]),
    powerLimitW: numberOrUndefined(f[12]),
    fanSpeedPercent: numberOrUndefined(f[13]),
    clockSmMhz: numberOrUndefined(f[14]),
    clockMemMhz: numberOrUndefined(f[15]),
    computeMode: textOrUndefined(f[16]),
    migMode: textOrUndefined(f[17]),
  };
}

export function parseGpuQuery(text: string): GpuSample[] {
  const out: GpuSample[] = [];
  for (const line of text.split('\n')) {
    const s = parseGpuQueryLine(line.replace(/\r$/, ''));
    if (s) out.push(s);
  }
  return out;
}

/** `/proc/driver/nvidia/version`: "NVRM version: NVIDIA UNIX … Kernel Module for x86_64  580.159.04  Release Build …". */
export function parseProcDriverVersion(text: string): string | undefined {
  const line = text.split('\n').find((l) => l.startsWith('NVRM version:'));
  if (!line) return undefined;
  const m = /\s(\d+\.\d+(?:\.\d+)?)\s/.exec(`${line} `);
  return m?.[1];
}

/** The `nvidia-smi` summary header: "Driver Version: 580.159.04     CUDA Version: 13.0". */
export function parseSmiHeader(text: string): { driverVersion: string | undefined; cudaVersion: string | undefined } {
  return {
    driverVersion: /Driver Version:\s*([\d.]+)/.exec(text)?.[1],
    cudaVersion: /CUDA Version:\s*([\d.]+)/.exec(text)?.[1],
  };
}
