/**
 * `nvidia-smi -q -x`: the XML report, element for element in the order and layout of the capture
 * (nvsmi_device_v13.dtd, driver 580): tab indentation, `<mig_devices>` with its text block, empty
 * `<processes>` spanning two lines. Only values come from the GPU state.
 */
import { memoryFree } from './state.js';
import type { DriverInfo, EmulatedGpu } from './state.js';
import { ctimeStamp, enabled, splitBusId, supportedGraphicsClocks, watts } from './text-format.js';

type Node = readonly [tag: string, content: string | readonly Node[]] | { block: string };

const NA = 'N/A';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function render(nodes: readonly Node[], depth: number, out: string[]): void {
  const ind = '\t'.repeat(depth);
  for (const n of nodes) {
    if ('block' in n) {
      out.push(`${ind}${n.block}`);
    } else {
      const [tag, content] = n;
      if (typeof content === 'string') {
        out.push(`${ind}<${tag}>${esc(content)}</${tag}>`);
      } else {
        out.push(`${ind}<${tag}>`);
        render(content, depth + 1, out);
        out.push(`${ind}</${tag}>`);
      }
    }
  }
}

const mib = (n: number): string => `${n} MiB`;
const mhz = (n: number): string => `${n} MHz`;
const cel = (n: number | null): string => (n === null ? NA : `${n} C`);
const w = (n: number | null): string => (n === null ? NA : `${watts(n)} W`);
const active = (b: boolean): string => (b ? 'Active' : 'Not Active');

function eccBlock(g: EmulatedGpu): Node[] {
  const z = g.eccEnabled ? '0' : NA;
  const counters: Node[] = [
    ['sram_correctable', z],
    ['sram_uncorrectable_parity', z],
    ['sram_uncorrectable_secded', z],
    ['dram_correctable', z],
    ['dram_uncorrectable', z],
  ];
  return [
    ['volatile', counters],
    ['aggregate', [...counters, ['sram_threshold_exceeded', g.eccEnabled ? 'No' : NA]]],
    [
      'aggregate_uncorrectable_sram_sources',
      [
        ['sram_l2', z],
        ['sram_sm', z],
        ['sram_microcontroller', z],
        ['sram_pcie', z],
        ['sram_other', z],
      ],
    ],
    ['channel_repair_pending', g.eccEnabled ? 'No' : NA],
    ['tpc_repair_pending', g.eccEnabled ? 'No' : NA],
    ['unrepairable_memory', g.eccEnabled ? 'No' : NA],
  ];
}

function gpuNodes(g: EmulatedGpu, driver: DriverInfo): Node[] {
  const bus = splitBusId(g.pciBusId);
  const idle = g.utilizationGpu === 0 && g.computeApps.length === 0;
  const capped = g.powerDrawW >= 0.97 * g.powerLimitW;
  const mig = g.migMode ?? NA;
  const tl = g.tempThresholds;
  const banks = g.remapBanks;
  const graphicsClocks = supportedGraphicsClocks(g.maxClocks.graphics, g.minGraphicsClock);
  return [
    ['product_name', g.name],
    ['product_brand', g.brand],
    ['product_architecture', g.architecture],
    ['display_mode', 'Requested functionality has been deprecated'],
    ['display_attached', 'Yes'],
    ['display_active', enabled(g.displayActive)],
    ['persistence_mode', enabled(g.persistenceMode)],
    ['addressing_mode', 'None'],
    [
      'mig_mode',
      [
        ['current_mig', mig],
        ['pending_mig', mig],
      ],
    ],
    ['mig_devices', [{ block: 'None' }]],
    ['accounting_mode', 'Disabled'],
    ['accounting_mode_buffer_size', '4000'],
    [
      'driver_model',
      [
        ['current_dm', NA],
        ['pending_dm', NA],
      ],
    ],
    ['serial', g.serial],
    ['uuid', g.uuid],
    ['pdi', g.pdi],
    ['minor_number', String(g.minorNumber)],
    ['vbios_version', g.vbiosVersion],
    ['multigpu_board', 'No'],
    ['board_id', g.boardId],
    ['board_part_number', g.boardPartNumber],
    ['gpu_part_number', g.gpuPartNumber],
    ['gpu_fru_part_number', NA],
    [
      'platformInfo',
      [
        ['chassis_serial_number', NA],
        ['slot_number', NA],
        ['tray_index', NA],
        ['host_id', NA],
        ['peer_type', NA],
        ['module_id', String(g.moduleId)],
        ['gpu_fabric_guid', NA],
      ],
    ],
    [
      'inforom_version',
      [
        ['img_version', g.inforom.image],
        ['oem_object', g.inforom.oem],
        ['ecc_object', g.inforom.ecc],
        ['pwr_object', NA],
      ],
    ],
    [
      'inforom_bbx_flush',
      [
        ['latest_timestamp', NA],
        ['latest_duration', NA],
      ],
    ],
    [
      'gpu_operation_mode',
      [
        ['current_gom', NA],
        ['pending_gom', NA],
      ],
    ],
    ['c2c_mode', 'Disabled'],
    [
      'gpu_virtualization_mode',
      [
        ['virtualization_mode', g.virtualizationMode],
        ['host_vgpu_mode', NA],
        ['vgpu_heterogeneous_mode', NA],
      ],
    ],
    ['gpu_recovery_action', 'None'],
    ['gsp_firmware_version', driver.version],
    [
      'ibmnpu',
      [['relaxed_ordering_mode', NA]],
    ],
    [
      'pci',
      [
        ['pci_bus', bus.bus],
        ['pci_device', bus.device],
        ['pci_domain', bus.domain],
        ['pci_base_class', '3'],
        ['pci_sub_class', '2'],
        ['pci_device_id', g.pciDeviceId.replace(/^0x/, '')],
        ['pci_bus_id', g.pciBusId],
        ['pci_sub_system_id', g.pciSubSystemId.replace(/^0x/, '')],
        [
          'pci_gpu_link_info',
          [
            [
              'pcie_gen',
              [
                ['max_link_gen', String(g.pcieGenMax)],
                ['current_link_gen', String(g.pcieGenCurrent)],
                ['device_current_link_gen', String(g.pcieGenCurrent)],
                ['max_device_link_gen', String(g.pcieGenMax)],
                ['max_host_link_gen', NA],
              ],
            ],
            [
              'link_widths',
              [
                ['max_link_width', `${g.pcieWidthMax}x`],
                ['current_link_width', `${g.pcieWidthCurrent}x`],
              ],
            ],
          ],
        ],
        [
          'pci_bridge_chip',
          [
            ['bridge_chip_type', NA],
            ['bridge_chip_fw', NA],
          ],
        ],
        ['replay_counter', '0'],
        ['replay_rollover_counter', '0'],
        ['tx_util', `${g.pcieTxKBs} KB/s`],
        ['rx_util', `${g.pcieRxKBs} KB/s`],
        ['atomic_caps_outbound', NA],
        ['atomic_caps_inbound', NA],
      ],
    ],
    ['fan_speed', g.fanSpeedPercent === null ? NA : `${g.fanSpeedPercent} %`],
    ['performance_state', g.pstate],
    [
      'clocks_event_reasons',
      [
        ['clocks_event_reason_gpu_idle', active(idle)],
        ['clocks_event_reason_applications_clocks_setting', active(false)],
        ['clocks_event_reason_sw_power_cap', active(capped)],
        ['clocks_event_reason_hw_slowdown', active(false)],
        ['clocks_event_reason_hw_thermal_slowdown', active(false)],
        ['clocks_event_reason_hw_power_brake_slowdown', active(false)],
        ['clocks_event_reason_sync_boost', active(false)],
        ['clocks_event_reason_sw_thermal_slowdown', active(false)],
        ['clocks_event_reason_display_clocks_setting', active(false)],
      ],
    ],
    [
      'clocks_event_reasons_counters',
      [
        ['clocks_event_reasons_counters_sw_power_cap', `${g.swPowerCapCounterUs} us`],
        ['clocks_event_reasons_counters_sync_boost', '0 us'],
        ['clocks_event_reasons_counters_sw_therm_slowdown', '0 us'],
        ['clocks_event_reasons_counters_hw_therm_slowdown', '0 us'],
        ['clocks_event_reasons_counters_hw_power_brake', '0 us'],
      ],
    ],
    ['sparse_operation_mode', 'Disabled'],
    [
      'fb_memory_usage',
      [
        ['total', mib(g.memoryTotalMiB)],
        ['reserved', mib(g.memoryReservedMiB)],
        ['used', mib(g.memoryUsedMiB)],
        ['free', mib(memoryFree(g))],
      ],
    ],
    [
      'bar1_memory_usage',
      [
        ['total', mib(g.bar1TotalMiB)],
        ['used', mib(g.bar1UsedMiB)],
        ['free', mib(Math.max(0, g.bar1TotalMiB - g.bar1UsedMiB))],
      ],
    ],
    [
      'cc_protected_memory_usage',
      [
        ['total', mib(0)],
        ['used', mib(0)],
        ['free', mib(0)],
      ],
    ],
    ['compute_mode', g.computeMode],
    [
      'utilization',
      [
        ['gpu_util', `${g.utilizationGpu} %`],
        ['memory_util', `${g.utilizationMemory} %`],
        ['encoder_util', `${g.utilizationEncoder} %`],
        ['decoder_util', `${g.utilizationDecoder} %`],
        ['jpeg_util', `${g.utilizationJpeg} %`],
        ['ofa_util', `${g.utilizationOfa} %`],
      ],
    ],
    [
      'encoder_stats',
      [
        ['session_count', '0'],
        ['average_fps', '0'],
        ['average_latency', '0'],
      ],
    ],
    [
      'fbc_stats',
      [
        ['session_count', '0'],
        ['average_fps', '0'],
        ['average_latency', '0'],
      ],
    ],
    [
      'dram_encryption_mode',
      [
        ['current_dram_encryption', NA],
        ['pending_dram_encryption', NA],
      ],
    ],
    [
      'ecc_mode',
      [
        ['current_ecc', enabled(g.eccEnabled)],
        ['pending_ecc', enabled(g.eccEnabled)],
      ],
    ],
    ['ecc_errors', eccBlock(g)],
    [
      'retired_pages',
      [
        [
          'multiple_single_bit_retirement',
          [
            ['retired_count', NA],
            ['retired_pagelist', NA],
          ],
        ],
        [
          'double_bit_retirement',
          [
            ['retired_count', NA],
            ['retired_pagelist', NA],
          ],
        ],
        ['pending_blacklist', NA],
        ['pending_retirement', NA],
      ],
    ],
    [
      'remapped_rows',
      [
        ['remapped_row_corr', '0'],
        ['remapped_row_corr_inactive', '0'],
        ['remapped_row_unc', '0'],
        ['remapped_row_unc_inactive', '0'],
        ['remapped_row_pending', 'No'],
        ['remapped_row_failure', 'No'],
        [
          'row_remapper_histogram',
          [
            ['row_remapper_histogram_max', banks === null ? NA : `${banks} bank(s)`],
            ['row_remapper_histogram_high', banks === null ? NA : '0 bank(s)'],
            ['row_remapper_histogram_partial', banks === null ? NA : '0 bank(s)'],
            ['row_remapper_histogram_low', banks === null ? NA : '0 bank(s)'],
            ['row_remapper_histogram_none', banks === null ? NA : '0 bank(s)'],
          ],
        ],
      ],
    ],
    [
      'temperature',
      [
        ['gpu_temp', cel(g.temperatureGpu)],
        ['gpu_temp_tlimit', cel(g.temperatureTlimit)],
        ['gpu_temp_max_tlimit_threshold', tl.tlimit ? tl.shutdown : NA],
        ['gpu_temp_slow_tlimit_threshold', tl.tlimit ? tl.slowdown : NA],
        ['gpu_temp_max_gpu_tlimit_threshold', tl.tlimit ? tl.maxOperating : NA],
        ['gpu_target_temperature', NA],
        ['memory_temp', cel(g.temperatureMemory)],
        ['gpu_temp_max_mem_tlimit_threshold', tl.tlimit ? tl.memoryMaxOperating : NA],
      ],
    ],
    [
      'supported_gpu_target_temp',
      [
        ['gpu_target_temp_min', NA],
        ['gpu_target_temp_max', NA],
      ],
    ],
    [
      'gpu_power_readings',
      [
        ['power_state', g.pstate],
        ['average_power_draw', w(g.powerDrawW)],
        ['instant_power_draw', w(g.powerDrawInstantW)],
        ['current_power_limit', w(g.powerLimitW)],
        ['requested_power_limit', w(g.powerLimitW)],
        ['default_power_limit', w(g.powerDefaultLimitW)],
        ['min_power_limit', w(g.powerMinLimitW)],
        ['max_power_limit', w(g.powerMaxLimitW)],
      ],
    ],
    [
      'gpu_memory_power_readings',
      [
        ['average_power_draw', w(g.memoryPowerDrawW)],
        ['instant_power_draw', NA],
      ],
    ],
    [
      'module_power_readings',
      [
        ['power_state', g.pstate],
        ['average_power_draw', NA],
        ['instant_power_draw', NA],
        ['current_power_limit', NA],
        ['requested_power_limit', NA],
        ['default_power_limit', NA],
        ['min_power_limit', NA],
        ['max_power_limit', NA],
      ],
    ],
    ['power_smoothing', NA],
    [
      'power_profiles',
      [
        ['power_profile_requested_profiles', NA],
        ['power_profile_enforced_profiles', NA],
      ],
    ],
    [
      'clocks',
      [
        ['graphics_clock', mhz(g.clocks.graphics)],
        ['sm_clock', mhz(g.clocks.sm)],
        ['mem_clock', mhz(g.clocks.memory)],
        ['video_clock', mhz(g.clocks.video)],
      ],
    ],
    [
      'applications_clocks',
      [
        ['graphics_clock', mhz(g.applicationsClocks.graphics)],
        ['mem_clock', mhz(g.applicationsClocks.memory)],
      ],
    ],
    [
      'default_applications_clocks',
      [
        ['graphics_clock', mhz(g.defaultApplicationsClocks.graphics)],
        ['mem_clock', mhz(g.defaultApplicationsClocks.memory)],
      ],
    ],
    ['deferred_clocks', [['mem_clock', NA]]],
    [
      'max_clocks',
      [
        ['graphics_clock', mhz(g.maxClocks.graphics)],
        ['sm_clock', mhz(g.maxClocks.sm)],
        ['mem_clock', mhz(g.maxClocks.memory)],
        ['video_clock', mhz(g.maxClocks.video)],
      ],
    ],
    ['max_customer_boost_clocks', [['graphics_clock', mhz(g.maxClocks.graphics)]]],
    [
      'clock_policy',
      [
        ['auto_boost', NA],
        ['auto_boost_default', NA],
      ],
    ],
    [
      'fabric',
      [
        ['state', NA],
        ['status', NA],
        ['cliqueId', NA],
        ['clusterUuid', NA],
        [
          'health',
          [
            ['summary', NA],
            ['bandwidth', NA],
            ['route_recovery_in_progress', NA],
            ['route_unhealthy', NA],
            ['access_timeout_recovery', NA],
            ['incorrect_configuration', NA],
            ['partition_assigned', NA],
          ],
        ],
      ],
    ],
    [
      'supported_clocks',
      g.supportedMemoryClocks.map(
        (memClock): Node => [
          'supported_mem_clock',
          [
            ['value', mhz(memClock)],
            ...graphicsClocks.map((c): Node => ['supported_graphics_clock', mhz(c)]),
          ],
        ],
      ),
    ],
    [
      'processes',
      g.computeApps.map(
        (p): Node => [
          'process_info',
          [
            ['gpu_instance_id', NA],
            ['compute_instance_id', NA],
            ['pid', String(p.pid)],
            ['type', p.type],
            ['process_name', p.name],
            ['used_memory', mib(p.usedMemoryMiB)],
          ],
        ],
      ),
    ],
    ['accounted_processes', []],
    ['capabilities', [['egm', 'disabled']]],
  ];
}

export function renderXmlReport(driver: DriverInfo, gpus: readonly EmulatedGpu[], now: Date): string {
  const out: string[] = [
    '<?xml version="1.0" ?>',
    '<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v13.dtd">',
    '<nvidia_smi_log>',
    `\t<timestamp>${ctimeStamp(now)}</timestamp>`,
    `\t<driver_version>${driver.version}</driver_version>`,
    `\t<cuda_version>${driver.cudaVersion}</cuda_version>`,
    `\t<attached_gpus>${gpus.length}</attached_gpus>`,
  ];
  for (const g of gpus) {
    out.push(`\t<gpu id="${g.pciBusId}">`);
    render(gpuNodes(g, driver), 2, out);
    out.push('\t</gpu>', '');
  }
  out.push('</nvidia_smi_log>');
  return `${out.join('\n')}\n`;
}
