/**
 * `--query-gpu=` and `--query-compute-apps=` with `--format=csv[,noheader][,nounits]`.
 *
 * Each field has its canonical name first (what the header echoes: `clocks.sm` is printed as
 * `clocks.current.sm`), its aliases, the unit the header and values carry, and a reader. Values
 * that the GPU does not have print as `[N/A]` without a unit.
 */
import { memoryFree } from './state.js';
import type { DriverInfo, EmulatedGpu, GpuProcess } from './state.js';
import { csvTimestamp, enabled, splitBusId, watts } from './text-format.js';

const NA = null;
type Value = string | number | null;

export interface QueryContext {
  driver: DriverInfo;
  now: Date;
  count: number;
}

interface Field<T> {
  names: readonly string[];
  unit?: string;
  read: (item: T, ctx: QueryContext) => Value;
}

function f<T>(names: string | readonly string[], read: (item: T, ctx: QueryContext) => Value, unit?: string): Field<T> {
  return { names: typeof names === 'string' ? [names] : names, read, ...(unit === undefined ? {} : { unit }) };
}

const eccCounter = (g: EmulatedGpu): Value => (g.eccEnabled ? 0 : NA);
const ECC_KINDS = ['device_memory', 'dram', 'register_file', 'l1_cache', 'l2_cache', 'texture_memory', 'cbu', 'sram', 'total'];
const HOPPER_ECC = new Set(['dram', 'sram', 'total']);

function eccFields(): Field<EmulatedGpu>[] {
  const out: Field<EmulatedGpu>[] = [];
  for (const kind of ['corrected', 'uncorrected']) {
    for (const scope of ['volatile', 'aggregate']) {
      for (const part of ECC_KINDS) {
        out.push(
          f(`ecc.errors.${kind}.${scope}.${part}`, (g) =>
            g.architecture === 'Hopper' && !HOPPER_ECC.has(part) ? NA : eccCounter(g),
          ),
        );
      }
    }
  }
  return out;
}

function isIdle(g: EmulatedGpu): boolean {
  return g.utilizationGpu === 0 && g.computeApps.length === 0;
}
function isPowerCapped(g: EmulatedGpu): boolean {
  return g.powerDrawW >= 0.97 * g.powerLimitW;
}

const activeText = (b: boolean): string => (b ? 'Active' : 'Not Active');

function eventReasonFields(): Field<EmulatedGpu>[] {
  const reasons: [string, (g: EmulatedGpu) => boolean][] = [
    ['gpu_idle', isIdle],
    ['applications_clocks_setting', () => false],
    ['sw_power_cap', isPowerCapped],
    ['hw_slowdown', () => false],
    ['hw_thermal_slowdown', () => false],
    ['hw_power_brake_slowdown', () => false],
    ['sw_thermal_slowdown', () => false],
    ['sync_boost', () => false],
  ];
  const out: Field<EmulatedGpu>[] = [
    f(['clocks_event_reasons.supported', 'clocks_throttle_reasons.supported'], () => '0x00000000000001FF'),
    f(['clocks_event_reasons.active', 'clocks_throttle_reasons.active'], (g) => {
      const bits = (isIdle(g) ? 0x1 : 0) | (isPowerCapped(g) ? 0x4 : 0);
      return `0x${bits.toString(16).toUpperCase().padStart(16, '0')}`;
    }),
  ];
  for (const [name, test] of reasons) {
    out.push(f([`clocks_event_reasons.${name}`, `clocks_throttle_reasons.${name}`], (g) => activeText(test(g))));
  }
  return out;
}


export const GPU_FIELDS: readonly Field<EmulatedGpu>[] = [
  f('timestamp', (_g, c) => csvTimestamp(c.now)),
  f('driver_version', (_g, c) => c.driver.version),
  f('count', (_g, c) => c.count),
  f(['name', 'gpu_name'], (g) => g.name),
  f(['serial', 'gpu_serial'], (g) => g.serial),
  f(['uuid', 'gpu_uuid'], (g) => g.uuid),
  f(['pci.bus_id', 'gpu_bus_id'], (g) => g.pciBusId),
  f('pci.domain', (g) => `0x${splitBusId(g.pciBusId).domain}`),
  f('pci.bus', (g) => `0x${splitBusId(g.pciBusId).bus}`),
  f('pci.device', (g) => `0x${splitBusId(g.pciBusId).device}`),
  f('pci.device_id', (g) => g.pciDeviceId),
  f('pci.sub_device_id', (g) => g.pciSubSystemId),
  f('pcie.link.gen.current', (g) => g.pcieGenCurrent),
  f('pcie.link.gen.gpucurrent', (g) => g.pcieGenCurrent),
  f('pcie.link.gen.max', (g) => g.pcieGenMax),
  f('pcie.link.gen.gpumax', (g) => g.pcieGenMax),
  f('pcie.link.gen.hostmax', () => NA),
  f('pcie.link.width.current', (g) => g.pcieWidthCurrent),
  f('pcie.link.width.max', (g) => g.pcieWidthMax),
  f('index', (g) => g.index),
  f('display_mode', () => 'Requested functionality has been deprecated'),
  f('display_attached', () => 'Yes'),
  f('display_active', (g) => enabled(g.displayActive)),
  f('persistence_mode', (g) => enabled(g.persistenceMode)),
  f('addressing_mode', () => 'None'),
  f('accounting.mode', () => 'Disabled'),
  f('accounting.buffer_size', () => 4000),
  f('driver_model.current', () => NA),
  f('driver_model.pending', () => NA),
  f('vbios_version', (g) => g.vbiosVersion),
  f(['inforom.img', 'inforom.image'], (g) => g.inforom.image),
  f('inforom.oem', (g) => g.inforom.oem),
  f('inforom.ecc', (g) => g.inforom.ecc),
  f(['inforom.pwr', 'inforom.power'], () => NA),
  f('reset_status.reset_required', () => 'No'),
  f('reset_status.drain_and_reset_recommended', () => 'No'),
  f(['gom.current', 'gpu_operation_mode.current'], () => NA),
  f(['gom.pending', 'gpu_operation_mode.pending'], () => NA),
  f('fan.speed', (g) => g.fanSpeedPercent, '%'),
  f('pstate', (g) => g.pstate),
  ...eventReasonFields(),
  f('memory.total', (g) => g.memoryTotalMiB, 'MiB'),
  f('memory.reserved', (g) => g.memoryReservedMiB, 'MiB'),
  f('memory.used', (g) => g.memoryUsedMiB, 'MiB'),
  f('memory.free', memoryFree, 'MiB'),
  f('compute_mode', (g) => g.computeMode),
  f('compute_cap', (g) => g.computeCap),
  f('utilization.gpu', (g) => g.utilizationGpu, '%'),
  f('utilization.memory', (g) => g.utilizationMemory, '%'),
  f('utilization.encoder', (g) => g.utilizationEncoder, '%'),
  f('utilization.decoder', (g) => g.utilizationDecoder, '%'),
  f('utilization.jpeg', (g) => g.utilizationJpeg, '%'),
  f('utilization.ofa', (g) => g.utilizationOfa, '%'),
  f('encoder.stats.sessionCount', () => 0),
  f('encoder.stats.averageFps', () => 0),
  f('encoder.stats.averageLatency', () => 0),
  f('ecc.mode.current', (g) => enabled(g.eccEnabled)),
  f('ecc.mode.pending', (g) => enabled(g.eccEnabled)),
  ...eccFields(),
  f(['retired_pages.single_bit_ecc.count', 'retired_pages.sbe'], () => NA),
  f(['retired_pages.double_bit.count', 'retired_pages.dbe'], () => NA),
  f('retired_pages.pending', () => NA),
  f('temperature.gpu', (g) => g.temperatureGpu),
  f('temperature.gpu.tlimit', (g) => g.temperatureTlimit),
  f('temperature.memory', (g) => g.temperatureMemory),
  f('power.management', () => 'Enabled'),
  f('power.draw', (g) => watts(g.powerDrawW), 'W'),
  f('power.draw.average', (g) => watts(g.powerDrawW), 'W'),
  f('power.draw.instant', (g) => watts(g.powerDrawInstantW), 'W'),
  f('power.limit', (g) => watts(g.powerLimitW), 'W'),
  f('enforced.power.limit', (g) => watts(g.powerLimitW), 'W'),
  f('power.default_limit', (g) => watts(g.powerDefaultLimitW), 'W'),
  f('power.min_limit', (g) => watts(g.powerMinLimitW), 'W'),
  f('power.max_limit', (g) => watts(g.powerMaxLimitW), 'W'),
  f(['clocks.current.graphics', 'clocks.gr'], (g) => g.clocks.graphics, 'MHz'),
  f(['clocks.current.sm', 'clocks.sm'], (g) => g.clocks.sm, 'MHz'),
  f(['clocks.current.memory', 'clocks.mem'], (g) => g.clocks.memory, 'MHz'),
  f(['clocks.current.video', 'clocks.video'], (g) => g.clocks.video, 'MHz'),
  f(['clocks.applications.graphics', 'clocks.applications.gr'], (g) => g.applicationsClocks.graphics, 'MHz'),
  f(['clocks.applications.memory', 'clocks.applications.mem'], (g) => g.applicationsClocks.memory, 'MHz'),
  f(
    ['clocks.default_applications.graphics', 'clocks.default_applications.gr'],
    (g) => g.defaultApplicationsClocks.graphics,
    'MHz',
  ),
  f(
    ['clocks.default_applications.memory', 'clocks.default_applications.mem'],
    (g) => g.defaultApplicationsClocks.memory,
    'MHz',
  ),
  f(['clocks.max.graphics', 'clocks.max.gr'], (g) => g.maxClocks.graphics, 'MHz'),
  f('clocks.max.sm', (g) => g.maxClocks.sm, 'MHz'),
  f(['clocks.max.memory', 'clocks.max.mem'], (g) => g.maxClocks.memory, 'MHz'),
  f('mig.mode.current', (g) => g.migMode),
  f('mig.mode.pending', (g) => g.migMode),
  f('gsp.mode.current', () => 'Enabled'),
  f('gsp.mode.default', () => 'Enabled'),
  f('protected_memory.total', () => 0, 'MiB'),
  f('protected_memory.used', () => 0, 'MiB'),
  f('protected_memory.free', () => 0, 'MiB'),
  f('fabric.state', () => NA),
  f('fabric.status', () => NA),
];

export interface AppRow {
  gpu: EmulatedGpu;
  app: GpuProcess;
}

export const COMPUTE_APP_FIELDS: readonly Field<AppRow>[] = [
  f('timestamp', (_r, c) => csvTimestamp(c.now)),
  f('gpu_name', (r) => r.gpu.name),
  f('gpu_bus_id', (r) => r.gpu.pciBusId),
  f('gpu_serial', (r) => r.gpu.serial),
  f('gpu_uuid', (r) => r.gpu.uuid),
  f('pid', (r) => r.app.pid),
  f(['process_name', 'name'], (r) => r.app.name),
  f(['used_gpu_memory', 'used_memory'], (r) => r.app.usedMemoryMiB, 'MiB'),
];

export interface CsvFormat {
  header: boolean;
  units: boolean;
}

/** Parses "csv,noheader,nounits"; null for anything nvidia-smi would refuse. */
export function parseFormat(spec: string): CsvFormat | null {
  const parts = spec.split(',').map((p) => p.trim());
  if (parts[0] !== 'csv') return null;
  const fmt: CsvFormat = { header: true, units: true };
  for (const p of parts.slice(1)) {
    if (p === 'noheader') fmt.header = false;
    else if (p === 'nounits') fmt.units = false;
    else return null;
  }
  return fmt;
}

export type Resolved<T> = { ok: true; fields: Field<T>[] } | { ok: false; bad: string };

export function resolveFields<T>(table: readonly Field<T>[], spec: string): Resolved<T> {
  const fields: Field<T>[] = [];
  for (const raw of spec.split(',')) {
    const name = raw.trim();
    const field = table.find((fd) => fd.names.includes(name));
    if (field === undefined) return { ok: false, bad: name };
    fields.push(field);
  }
  return { ok: true, fields };
}

export function badFieldMessage(name: string): string {
  return `Field "${name}" is not a valid field to query.\n\n`;
}

export function csvHeader<T>(fields: readonly Field<T>[]): string {
  return `${fields.map((fd) => (fd.unit === undefined ? fd.names[0] : `${fd.names[0]} [${fd.unit}]`)).join(', ')}\n`;
}

export function csvRow<T>(fields: readonly Field<T>[], item: T, ctx: QueryContext, fmt: CsvFormat): string {
  const cells = fields.map((fd) => {
    const v = fd.read(item, ctx);
    if (v === null) return '[N/A]';
    return fmt.units && fd.unit !== undefined ? `${v} ${fd.unit}` : String(v);
  });
  return `${cells.join(', ')}\n`;
}
