import type { GpuModel } from './models.js';

/** The shape of `gpus.json` (state.ts reads and writes it; host-facts.ts derives /dev and /proc from it). */

export type ComputeMode = 'Default' | 'Exclusive_Process' | 'Prohibited';
export type ProcessType = 'C' | 'G' | 'C+G';

export interface GpuProcess {
  pid: number;
  name: string;
  usedMemoryMiB: number;
  type: ProcessType;
}

export interface GpuClocks {
  graphics: number;
  sm: number;
  memory: number;
  video: number;
}

export interface EmulatedGpu {
  /** nvidia-smi's index (ordered by PCI bus id on a real node). */
  index: number;
  /** Minor number of /dev/nvidia<minor>. */
  minorNumber: number;
  name: string;
  brand: string;
  architecture: string;
  uuid: string;
  /** As nvidia-smi prints it: 00000000:00:06.0 (8-digit domain). */
  pciBusId: string;
  pciDeviceId: string;
  pciSubSystemId: string;
  serial: string;
  vbiosVersion: string;
  boardId: string;
  boardPartNumber: string;
  gpuPartNumber: string;
  moduleId: number;
  pdi: string;
  inforom: { image: string; oem: string; ecc: string };
  computeCap: string;
  persistenceMode: boolean;
  displayActive: boolean;
  /** "None" on bare metal, "Pass-Through" inside a VM (the capture was taken in one). */
  virtualizationMode: string;
  memoryTotalMiB: number;
  memoryReservedMiB: number;
  memoryUsedMiB: number;
  /**
   * Free memory as the driver reports it; null = total - reserved - used. The driver rounds each
   * figure from bytes on its own, so under load the three do not always add up (capture: off by 1).
   */
  memoryFreeMiB: number | null;
  bar1TotalMiB: number;
  bar1UsedMiB: number;
  utilizationGpu: number;
  utilizationMemory: number;
  utilizationEncoder: number;
  utilizationDecoder: number;
  utilizationJpeg: number;
  utilizationOfa: number;
  temperatureGpu: number;
  temperatureMemory: number | null;
  /** Hopper reports the distance to the slowdown limit ("GPU T.Limit Temp"); null = N/A. */
  temperatureTlimit: number | null;
  /** `power.draw`: on Ampere and newer the 1 s average. */
  powerDrawW: number;
  powerDrawInstantW: number;
  memoryPowerDrawW: number | null;
  powerLimitW: number;
  powerDefaultLimitW: number;
  powerMinLimitW: number;
  powerMaxLimitW: number;
  /** null: no fan ([N/A]). */
  fanSpeedPercent: number | null;
  pstate: string;
  clocks: GpuClocks;
  maxClocks: GpuClocks;
  applicationsClocks: { graphics: number; memory: number };
  defaultApplicationsClocks: { graphics: number; memory: number };
  supportedMemoryClocks: number[];
  minGraphicsClock: number;
  computeMode: ComputeMode;
  eccEnabled: boolean;
  /** null: MIG not supported (N/A). */
  migMode: 'Enabled' | 'Disabled' | null;
  pcieGenMax: number;
  pcieGenCurrent: number;
  pcieWidthMax: number;
  pcieWidthCurrent: number;
  pcieTxKBs: number;
  pcieRxKBs: number;
  swPowerCapCounterUs: number;
  remapBanks: number | null;
  tempThresholds: GpuModel['tempThresholds'];
  computeApps: GpuProcess[];
  numaNode: number | null;
  cpuAffinity: string;
  /** NVLinks to every other GPU with nvlinks > 0 (topo -m prints NV<n>); 0 = PCIe only. */
  nvlinks: number;
  /**
   * Kernel driver the GPU is bound to: 'nvidia' (the host's nvidia-smi and its containers see it)
   * or 'vfio-pci' (reserved for VM passthrough: invisible on the host, visible in the VM).
   */
  driverBinding: 'nvidia' | 'vfio-pci';
}

export interface DriverInfo {
  version: string;
  cudaVersion: string;
  /** Majors are assigned at module load; these are the capture's (uvm 238, caps 241), not constants. */
  uvmMajor: number;
  capsMajor: number;
  /** Text of /proc/driver/nvidia/version. */
  procVersionText: string;
}

export interface GpuState {
  driver: DriverInfo | null;
  gpus: EmulatedGpu[];
}
