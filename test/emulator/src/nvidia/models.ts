/**
 * Per-model constants of the GPUs the emulator knows. The H100 values are those of the real capture
 * in test/fixtures/nvidia (idle); the others are typical values of the same driver generation.
 */

export interface GpuModel {
  readonly name: string;
  readonly brand: string;
  readonly architecture: string;
  readonly computeCap: string;
  /** PCI vendor/device id as nvidia-smi prints it in `pci.device_id`, e.g. 0x233010DE. */
  readonly pciDeviceId: string;
  readonly pciSubSystemId: string;
  readonly vbiosVersion: string;
  readonly boardPartNumber: string;
  readonly gpuPartNumber: string;
  readonly inforomImage: string;
  readonly inforomOem: string;
  readonly inforomEcc: string;
  readonly memoryTotalMiB: number;
  readonly memoryReservedMiB: number;
  readonly bar1TotalMiB: number;
  readonly powerLimitW: number;
  readonly powerMinLimitW: number;
  readonly powerMaxLimitW: number;
  readonly idlePowerW: number;
  /** null: passively cooled, nvidia-smi prints [N/A] / N/A. */
  readonly fanSpeedPercent: number | null;
  readonly eccEnabled: boolean;
  /** null: the GPU has no MIG support (N/A). */
  readonly migCapable: boolean;
  readonly maxClocks: { graphics: number; sm: number; memory: number; video: number };
  readonly idleClocks: { graphics: number; sm: number; memory: number; video: number };
  readonly supportedMemoryClocks: readonly number[];
  readonly minGraphicsClock: number;
  readonly pcieGenMax: number;
  readonly pcieWidthMax: number;
  readonly remapBanks: number | null;
  /** Temperature thresholds; Hopper reports T.Limit offsets, older parts absolute values. */
  readonly tempThresholds: {
    shutdown: string;
    slowdown: string;
    maxOperating: string;
    memoryMaxOperating: string;
    tlimit: boolean;
  };
}

export const H100_80GB_HBM3: GpuModel = {
  name: 'NVIDIA H100 80GB HBM3',
  brand: 'NVIDIA',
  architecture: 'Hopper',
  computeCap: '9.0',
  pciDeviceId: '0x233010DE',
  pciSubSystemId: '0x16C110DE',
  vbiosVersion: '96.00.DA.00.0C',
  boardPartNumber: '695-2G520-0200-000',
  gpuPartNumber: '2330-885-A1',
  inforomImage: 'G520.0200.00.05',
  inforomOem: '2.1',
  inforomEcc: '7.16',
  memoryTotalMiB: 81559,
  memoryReservedMiB: 480,
  bar1TotalMiB: 131072,
  powerLimitW: 700,
  powerMinLimitW: 200,
  powerMaxLimitW: 700,
  idlePowerW: 127.9,
  fanSpeedPercent: null,
  eccEnabled: true,
  migCapable: true,
  maxClocks: { graphics: 1980, sm: 1980, memory: 2619, video: 1545 },
  idleClocks: { graphics: 1980, sm: 1980, memory: 2619, video: 765 },
  supportedMemoryClocks: [2619, 1593],
  minGraphicsClock: 345,
  pcieGenMax: 5,
  pcieWidthMax: 16,
  remapBanks: 2560,
  tempThresholds: { shutdown: '-8 C', slowdown: '-2 C', maxOperating: '0 C', memoryMaxOperating: '0 C', tlimit: true },
};

export const L40S: GpuModel = {
  name: 'NVIDIA L40S',
  brand: 'NVIDIA',
  architecture: 'Ada Lovelace',
  computeCap: '8.9',
  pciDeviceId: '0x26B910DE',
  pciSubSystemId: '0x185110DE',
  vbiosVersion: '95.02.66.00.02',
  boardPartNumber: '900-2G133-0080-000',
  gpuPartNumber: '26B9-896-A1',
  inforomImage: 'G133.0242.00.05',
  inforomOem: '2.1',
  inforomEcc: '7.16',
  memoryTotalMiB: 46068,
  memoryReservedMiB: 579,
  bar1TotalMiB: 65536,
  powerLimitW: 350,
  powerMinLimitW: 100,
  powerMaxLimitW: 350,
  idlePowerW: 32.45,
  fanSpeedPercent: null,
  eccEnabled: true,
  migCapable: false,
  maxClocks: { graphics: 2520, sm: 2520, memory: 9001, video: 1965 },
  idleClocks: { graphics: 210, sm: 210, memory: 405, video: 1185 },
  supportedMemoryClocks: [9001, 5001, 810, 405],
  minGraphicsClock: 210,
  pcieGenMax: 4,
  pcieWidthMax: 16,
  remapBanks: 192,
  tempThresholds: { shutdown: '94 C', slowdown: '91 C', maxOperating: '89 C', memoryMaxOperating: 'N/A', tlimit: false },
};

export const RTX_A6000: GpuModel = {
  name: 'NVIDIA RTX A6000',
  brand: 'NVIDIA RTX',
  architecture: 'Ampere',
  computeCap: '8.6',
  pciDeviceId: '0x223010DE',
  pciSubSystemId: '0x145910DE',
  vbiosVersion: '94.02.5C.00.02',
  boardPartNumber: '900-5G133-2200-000',
  gpuPartNumber: '2230-875-A1',
  inforomImage: 'G133.0500.00.05',
  inforomOem: '2.0',
  inforomEcc: '6.16',
  memoryTotalMiB: 49140,
  memoryReservedMiB: 311,
  bar1TotalMiB: 256,
  powerLimitW: 300,
  powerMinLimitW: 100,
  powerMaxLimitW: 300,
  idlePowerW: 23.61,
  fanSpeedPercent: 30,
  eccEnabled: false,
  migCapable: false,
  maxClocks: { graphics: 2100, sm: 2100, memory: 8001, video: 1950 },
  idleClocks: { graphics: 0, sm: 0, memory: 405, video: 555 },
  supportedMemoryClocks: [8001, 7601, 5001, 810, 405],
  minGraphicsClock: 210,
  pcieGenMax: 4,
  pcieWidthMax: 16,
  remapBanks: 192,
  tempThresholds: { shutdown: '98 C', slowdown: '95 C', maxOperating: '93 C', memoryMaxOperating: 'N/A', tlimit: false },
};

export const A100_SXM4_80GB: GpuModel = {
  name: 'NVIDIA A100-SXM4-80GB',
  brand: 'NVIDIA',
  architecture: 'Ampere',
  computeCap: '8.0',
  pciDeviceId: '0x20B210DE',
  pciSubSystemId: '0x147F10DE',
  vbiosVersion: '92.00.45.00.03',
  boardPartNumber: '692-2G506-0210-002',
  gpuPartNumber: '20B2-895-A1',
  inforomImage: 'G506.0210.00.03',
  inforomOem: '2.0',
  inforomEcc: '6.16',
  memoryTotalMiB: 81920,
  memoryReservedMiB: 656,
  bar1TotalMiB: 131072,
  powerLimitW: 400,
  powerMinLimitW: 100,
  powerMaxLimitW: 400,
  idlePowerW: 61.37,
  fanSpeedPercent: null,
  eccEnabled: true,
  migCapable: true,
  maxClocks: { graphics: 1410, sm: 1410, memory: 1593, video: 1290 },
  idleClocks: { graphics: 210, sm: 210, memory: 1593, video: 795 },
  supportedMemoryClocks: [1593],
  minGraphicsClock: 210,
  pcieGenMax: 4,
  pcieWidthMax: 16,
  remapBanks: 640,
  tempThresholds: { shutdown: '92 C', slowdown: '89 C', maxOperating: '85 C', memoryMaxOperating: '95 C', tlimit: false },
};

export const GPU_MODELS: readonly GpuModel[] = [H100_80GB_HBM3, L40S, RTX_A6000, A100_SXM4_80GB];

/** The model whose product name matches, or the H100 of the capture when the name is unknown. */
export function modelByName(name: string | undefined): GpuModel {
  if (name === undefined) return H100_80GB_HBM3;
  return GPU_MODELS.find((m) => m.name === name) ?? { ...H100_80GB_HBM3, name };
}
