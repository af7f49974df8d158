/**
 * `nvidia-smi -q`: the text report in the capture's layout (labels padded to column 55, four-space
 * indentation, the process entries in the narrower 42-column layout the driver still uses there).
 */
import { memoryFree } from './state.js';
import type { DriverInfo, EmulatedGpu } from './state.js';
import { ctimeStamp, enabled, splitBusId, watts } from './text-format.js';

type Line = readonly [label: string, value: string | readonly Line[]] | { raw: string };

const NA = 'N/A';
const COLUMN = 55;

function render(lines: readonly Line[], depth: number, out: string[]): void {
  const ind = '    '.repeat(depth);
  for (const l of lines) {
    if ('raw' in l) {
      out.push(l.raw);
      continue;
    }
    const [label, value] = l;
    if (typeof value === 'string') out.push(`${`${ind}${label}`.padEnd(COLUMN)}: ${value}`);
    else {
      out.push(`${ind}${label}`);
      render(value, depth + 1, out);
    }
  }
}

const mib = (n: number): string => `${n} MiB`;
const mhz = (n: number): string => `${n} MHz`;
const cel = (n: number | null): string => (n === null ? NA : `${n} C`);
const w = (n: number | null): string => (n === null ? NA : `${watts(n)} W`);
const active = (b: boolean): string => (b ? 'Active' : 'Not Active');

function processLines(g: EmulatedGpu): Line[] {
  if (g.computeApps.length === 0) return [['Processes', 'None']];
  const p42 = (ind: string, label: string, value: string): Line => ({ raw: `${`${ind}${label}`.padEnd(42)}: ${value}` });
  const lines: Line[] = [{ raw: '    Processes' }];
  for (const p of g.computeApps) {
    lines.push(
      p42('        ', 'GPU instance ID', NA),
      p42('        ', 'Compute instance ID', NA),
      p42('        ', 'Process ID', String(p.pid)),
      p42('            ', 'Type', p.type),
      p42('            ', 'Name', p.name),
      p42('            ', 'Used GPU Memory', mib(p.usedMemoryMiB)),
    );
  }
  return lines;
}

function temperatureLines(g: EmulatedGpu): Line[] {
  const t = g.tempThresholds;
  if (t.tlimit) {
    return [
      ['GPU Current Temp', cel(g.temperatureGpu)],
      ['GPU T.Limit Temp', cel(g.temperatureTlimit)],
      ['GPU Shutdown T.Limit Temp', t.shutdown],
      ['GPU Slowdown T.Limit Temp', t.slowdown],
      ['GPU Max Operating T.Limit Temp', t.maxOperating],
      ['GPU Target Temperature', NA],
      ['Memory Current Temp', cel(g.temperatureMemory)],
      ['Memory Max Operating T.Limit Temp', t.memoryMaxOperating],
    ];
  }
  return [
    ['GPU Current Temp', cel(g.temperatureGpu)],
    ['GPU T.Limit Temp', cel(g.temperatureTlimit)],
    ['GPU Shutdown Temp', t.shutdown],
    ['GPU Slowdown Temp', t.slowdown],
    ['GPU Max Operating Temp', t.maxOperating],
    ['GPU Target Temperature', NA],
    ['Memory Current Temp', cel(g.temperatureMemory)],
    ['Memory Max Operating Temp', t.memoryMaxOperating],
  ];
}

function gpuLines(g: EmulatedGpu, driver: DriverInfo): Line[] {
  const bus = splitBusId(g.pciBusId);
  const idle = g.utilizationGpu === 0 && g.computeApps.length === 0;
  const capped = g.powerDrawW >= 0.97 * g.powerLimitW;
  const mig = g.migMode ?? NA;
  const z = g.eccEnabled ? '0' : NA;
  const banks = (n: number): string => (g.remapBanks === null ? NA : `${n} bank(s)`);
  const eccCounters: Line[] = [
    ['SRAM Correctable', z],
    ['SRAM Uncorrectable Parity', z],
    ['SRAM Uncorrectable SEC-DED', z],
    ['DRAM Correctable', z],
    ['DRAM Uncorrectable', z],
  ];
  return [
    ['Product Name', g.name],
    ['Product Brand', g.brand],
    ['Product Architecture', g.architecture],
    ['Display Mode', 'Requested functionality has been deprecated'],
    ['Display Attached', 'Yes'],
    ['Display Active', enabled(g.displayActive)],
    ['Persistence Mode', enabled(g.persistenceMode)],
    ['Addressing Mode', 'None'],
    [
      'MIG Mode',
      [
        ['Current', mig],
        ['Pending', mig],
      ],
    ],
    ['Accounting Mode', 'Disabled'],
    ['Accounting Mode Buffer Size', '4000'],
    [
      'Driver Model',
      [
        ['Current', NA],
        ['Pending', NA],
      ],
    ],
    ['Serial Number', g.serial],
    ['GPU UUID', g.uuid],
    ['GPU PDI', g.pdi],
    ['Minor Number', String(g.minorNumber)],
    ['VBIOS Version', g.vbiosVersion],
    ['MultiGPU Board', 'No'],
    ['Board ID', g.boardId],
    ['Board Part Number', g.boardPartNumber],
    ['GPU Part Number', g.gpuPartNumber],
    ['FRU Part Number', NA],
    [
      'Platform Info',
      [
        ['Chassis Serial Number', NA],
        ['Slot Number', NA],
        ['Tray Index', NA],
        ['Host ID', NA],
        ['Peer Type', NA],
        ['Module Id', String(g.moduleId)],
        ['GPU Fabric GUID', NA],
      ],
    ],
    [
      'Inforom Version',
      [
        ['Image Version', g.inforom.image],
        ['OEM Object', g.inforom.oem],
        ['ECC Object', g.inforom.ecc],
        ['Power Management Object', NA],
      ],
    ],
    [
      'Inforom BBX Object Flush',
      [
        ['Latest Timestamp', NA],
        ['Latest Duration', NA],
      ],
    ],
    [
      'GPU Operation Mode',
      [
        ['Current', NA],
        ['Pending', NA],
      ],
    ],
    ['GPU C2C Mode', 'Disabled'],
    [
      'GPU Virtualization Mode',
      [
        ['Virtualization Mode', g.virtualizationMode],
        ['Host VGPU Mode', NA],
        ['vGPU Heterogeneous Mode', NA],
      ],
    ],
    ['GPU Recovery Action', 'None'],
    ['GSP Firmware Version', driver.version],
    ['IBMNPU', [['Relaxed Ordering Mode', NA]]],
    [
      'PCI',
      [
        ['Bus', `0x${bus.bus}`],
        ['Device', `0x${bus.device}`],
        ['Domain', `0x${bus.domain}`],
        ['Base Classcode', '0x3'],
        ['Sub Classcode', '0x2'],
        ['Device Id', g.pciDeviceId],
        ['Bus Id', g.pciBusId],
        ['Sub System Id', g.pciSubSystemId],
        [
          'GPU Link Info',
          [
            [
              'PCIe Generation',
              [
                ['Max', String(g.pcieGenMax)],
                ['Current', String(g.pcieGenCurrent)],
                ['Device Current', String(g.pcieGenCurrent)],
                ['Device Max', String(g.pcieGenMax)],
                ['Host Max', NA],
              ],
            ],
            [
              'Link Width',
              [
                ['Max', `${g.pcieWidthMax}x`],
                ['Current', `${g.pcieWidthCurrent}x`],
              ],
            ],
          ],
        ],
        [
          'Bridge Chip',
          [
            ['Type', NA],
            ['Firmware', NA],
          ],
        ],
        ['Replays Since Reset', '0'],
        ['Replay Number Rollovers', '0'],
        ['Tx Throughput', `${g.pcieTxKBs} KB/s`],
        ['Rx Throughput', `${g.pcieRxKBs} KB/s`],
        ['Atomic Caps Outbound', NA],
        ['Atomic Caps Inbound', NA],
      ],
    ],
    ['Fan Speed', g.fanSpeedPercent === null ? NA : `${g.fanSpeedPercent} %`],
    ['Performance State', g.pstate],
    [
      'Clocks Event Reasons',
      [
        ['Idle', active(idle)],
        ['Applications Clocks Setting', active(false)],
        ['SW Power Cap', active(capped)],
        [
          'HW Slowdown',
          active(false),
        ],
        { raw: `${'            HW Thermal Slowdown'.padEnd(COLUMN)}: ${active(false)}` },
        { raw: `${'            HW Power Brake Slowdown'.padEnd(COLUMN)}: ${active(false)}` },
        ['Sync Boost', active(false)],
        ['SW Thermal Slowdown', active(false)],
        ['Display Clock Setting', active(false)],
      ],
    ],
    [
      'Clocks Event Reasons Counters',
      [
        ['SW Power Capping', `${g.swPowerCapCounterUs} us`],
        ['Sync Boost', '0 us'],
        ['SW Thermal Slowdown', '0 us'],
        ['HW Thermal Slowdown', '0 us'],
        ['HW Power Braking', '0 us'],
      ],
    ],
    ['Sparse Operation Mode', 'Disabled'],
    [
      'FB Memory Usage',
      [
        ['Total', mib(g.memoryTotalMiB)],
        ['Reserved', mib(g.memoryReservedMiB)],
        ['Used', mib(g.memoryUsedMiB)],
        ['Free', mib(memoryFree(g))],
      ],
    ],
    [
      'BAR1 Memory Usage',
      [
        ['Total', mib(g.bar1TotalMiB)],
        ['Used', mib(g.bar1UsedMiB)],
        ['Free', mib(Math.max(0, g.bar1TotalMiB - g.bar1UsedMiB))],
      ],
    ],
    [
      'Conf Compute Protected Memory Usage',
      [
        ['Total', mib(0)],
        ['Used', mib(0)],
        ['Free', mib(0)],
      ],
    ],
    ['Compute Mode', g.computeMode],
    [
      'Utilization',
      [
        ['GPU', `${g.utilizationGpu} %`],
        ['Memory', `${g.utilizationMemory} %`],
        ['Encoder', `${g.utilizationEncoder} %`],
        ['Decoder', `${g.utilizationDecoder} %`],
        ['JPEG', `${g.utilizationJpeg} %`],
        ['OFA', `${g.utilizationOfa} %`],
      ],
    ],
    [
      'Encoder Stats',
      [
        ['Active Sessions', '0'],
        ['Average FPS', '0'],
        ['Average Latency', '0'],
      ],
    ],
    [
      'FBC Stats',
      [
        ['Active Sessions', '0'],
        ['Average FPS', '0'],
        ['Average Latency', '0'],
      ],
    ],
    [
      'DRAM Encryption Mode',
      [
        ['Current', NA],
        ['Pending', NA],
      ],
    ],
    [
      'ECC Mode',
      [
        ['Current', enabled(g.eccEnabled)],
        ['Pending', enabled(g.eccEnabled)],
      ],
    ],
    [
      'ECC Errors',
      [
        ['Volatile', eccCounters],
        ['Aggregate', [...eccCounters, ['SRAM Threshold Exceeded', g.eccEnabled ? 'No' : NA]]],
        [
          'Aggregate Uncorrectable SRAM Sources',
          [
            ['SRAM L2', z],
            ['SRAM SM', z],
            ['SRAM Microcontroller', z],
            ['SRAM PCIE', z],
            ['SRAM Other', z],
          ],
        ],
        ['Channel Repair Pending', g.eccEnabled ? 'No' : NA],
        ['TPC Repair Pending', g.eccEnabled ? 'No' : NA],
        ['Unrepairable Memory', g.eccEnabled ? 'No' : NA],
      ],
    ],
    [
      'Retired Pages',
      [
        ['Single Bit ECC', NA],
        ['Double Bit ECC', NA],
        ['Pending Page Blacklist', NA],
      ],
    ],
    [
      'Remapped Rows',
      [
        ['Correctable Error', '0'],
        ['Inactive Correctable Error', '0'],
        ['Uncorrectable Error', '0'],
        ['Inactive Uncorrectable Error', '0'],
        ['Pending', 'No'],
        ['Remapping Failure Occurred', 'No'],
        [
          'Bank Remap Availability Histogram',
          [
            ['Max', banks(g.remapBanks ?? 0)],
            ['High', banks(0)],
            ['Partial', banks(0)],
            ['Low', banks(0)],
            ['None', banks(0)],
          ],
        ],
      ],
    ],
    ['Temperature', temperatureLines(g)],
    [
      'GPU Power Readings',
      [
        ['Average Power Draw', w(g.powerDrawW)],
        ['Instantaneous Power Draw', w(g.powerDrawInstantW)],
        ['Current Power Limit', w(g.powerLimitW)],
        ['Requested Power Limit', w(g.powerLimitW)],
        ['Default Power Limit', w(g.powerDefaultLimitW)],
        ['Min Power Limit', w(g.powerMinLimitW)],
        ['Max Power Limit', w(g.powerMaxLimitW)],
      ],
    ],
    [
      'GPU Memory Power Readings ',
      [
        ['Average Power Draw', w(g.memoryPowerDrawW)],
        ['Instantaneous Power Draw', NA],
      ],
    ],
    [
      'Module Power Readings',
      [
        ['Average Power Draw', NA],
        ['Instantaneous Power Draw', NA],
        ['Current Power Limit', NA],
        ['Requested Power Limit', NA],
        ['Default Power Limit', NA],
        ['Min Power Limit', NA],
        ['Max Power Limit', NA],
      ],
    ],
    ['Power Smoothing', NA],
    [
      'Workload Power Profiles',
      [
        ['Requested Profiles', NA],
        ['Enforced Profiles', NA],
      ],
    ],
    [
      'Clocks',
      [
        ['Graphics', mhz(g.clocks.graphics)],
        ['SM', mhz(g.clocks.sm)],
        ['Memory', mhz(g.clocks.memory)],
        ['Video', mhz(g.clocks.video)],
      ],
    ],
    [
      'Applications Clocks',
      [
        ['Graphics', mhz(g.applicationsClocks.graphics)],
        ['Memory', mhz(g.applicationsClocks.memory)],
      ],
    ],
    [
      'Default Applications Clocks',
      [
        ['Graphics', mhz(g.defaultApplicationsClocks.graphics)],
        ['Memory', mhz(g.defaultApplicationsClocks.memory)],
      ],
    ],
    ['Deferred Clocks', [['Memory', NA]]],
    [
      'Max Clocks',
      [
        ['Graphics', mhz(g.maxClocks.graphics)],
        ['SM', mhz(g.maxClocks.sm)],
        ['Memory', mhz(g.maxClocks.memory)],
        ['Video', mhz(g.maxClocks.video)],
      ],
    ],
    ['Max Customer Boost Clocks', [['Graphics', mhz(g.maxClocks.graphics)]]],
    [
      'Clock Policy',
      [
        ['Auto Boost', NA],
        ['Auto Boost Default', NA],
      ],
    ],
    [
      'Fabric',
      [
        ['State', NA],
        ['Status', NA],
        ['CliqueId', NA],
        ['ClusterUUID', NA],
        [
          'Health',
          [
            ['Summary', NA],
            ['Bandwidth', NA],
            ['Route Recovery in progress', NA],
            ['Route Unhealthy', NA],
            ['Access Timeout Recovery', NA],
            ['Incorrect Configuration', NA],
            ['Partition Assigned', NA],
          ],
        ],
      ],
    ],
    ...processLines(g),
    ['Capabilities', [['EGM', 'disabled']]],
  ];
}

export function renderTextReport(driver: DriverInfo, gpus: readonly EmulatedGpu[], now: Date): string {
  const out: string[] = ['', '==============NVSMI LOG==============', ''];
  render(
    [
      ['Timestamp', ctimeStamp(now)],
      ['Driver Version', driver.version],
      ['CUDA Version', driver.cudaVersion],
    ],
    0,
    out,
  );
  out.push('');
  render([['Attached GPUs', String(gpus.length)]], 0, out);
  for (const g of gpus) {
    out.push(`GPU ${g.pciBusId}`);
    render(gpuLines(g, driver), 1, out);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
