import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from '@phoenix/shared';
import { parseGpuQuery, parseGpuQueryLine, parseProcDriverVersion, parseSmiHeader } from './parse-nvidia.js';
import { mapToolFailure } from './tool-errors.js';

/** Text of one `### <title>` section of a capture file (without the trailing rc= line). */
function section(file: string, title: string): string {
  const text = readFileSync(new URL(`../../../test/fixtures/nvidia/${file}`, import.meta.url), 'utf8');
  const parts = text.split(/^### /m);
  const part = parts.find((p) => p.startsWith(`${title}\n`));
  if (part === undefined) throw new Error(`no section ${title} in ${file}`);
  return part
    .slice(title.length + 1)
    .split('\n')
    .filter((l) => !/^rc=\d+$/.test(l))
    .join('\n');
}

describe('nvidia-smi parsers on real captures', () => {
  it('parses the idle --query-gpu row, [N/A] fan speed included', () => {
    const [gpu, ...rest] = parseGpuQuery(section('nvidia-idle.txt', 'query csv noheader nounits'));
    expect(rest).toHaveLength(0);
    expect(gpu).toEqual({
      index: 0,
      uuid: 'GPU-9c79dd20-7dc2-3a84-125a-d60a69e02844',
      name: 'NVIDIA H100 80GB HBM3',
      pciBusId: '00000000:00:06.0',
      driverVersion: '580.159.04',
      memoryTotalMib: 81559,
      memoryUsedMib: 0,
      memoryFreeMib: 81079,
      utilizationGpuPercent: 0,
      utilizationMemoryPercent: 0,
      temperatureC: 41,
      powerDrawW: 127.89,
      powerLimitW: 700,
      fanSpeedPercent: undefined,
      clockSmMhz: 1980,
      clockMemMhz: 2619,
      computeMode: 'Default',
      migMode: 'Disabled',
    });
  });

  it('parses the row under load', () => {
    const [gpu] = parseGpuQuery(section('nvidia-load.txt', 'query csv noheader nounits (load)'));
    expect(gpu).toMatchObject({ memoryUsedMib: 20213, memoryFreeMib: 60867, utilizationGpuPercent: 100, powerDrawW: 698.18, temperatureC: 60 });
  });

  it('rejects rows of a different query (the header form with units, the systeminformation query)', () => {
    const header = section('nvidia-idle.txt', 'query csv header').split('\n')[1] ?? '';
    const withUnits = parseGpuQueryLine(header);
    // The units variant still has 18 fields, but its numbers carry units and do not parse.
    expect(withUnits?.memoryTotalMib).toBeUndefined();
    expect(parseGpuQuery(section('nvidia-idle.txt', 'systeminformation query'))).toEqual([]);
  });

  it('reads the driver version from /proc/driver/nvidia/version and the summary header', () => {
    expect(parseProcDriverVersion(section('nvidia-idle.txt', 'driver version file'))).toBe('580.159.04');
    expect(parseSmiHeader(section('nvidia-idle.txt', 'nvidia-smi'))).toEqual({ driverVersion: '580.159.04', cudaVersion: '13.0' });
  });

  it('maps the real error texts: unknown field (exit 2) and no device (exit 6)', () => {
    const badField = mapToolFailure(
      { tool: 'nvidiaSmi', subcommand: 'query-gpu', args: ['--query-gpu=not.a.field'], exitCode: 2, stdout: section('nvidia-idle.txt', 'bad field'), stderr: '' },
      undefined,
    );
    expect(badField).toBeInstanceOf(InvalidArgumentError);
    const noDevice = mapToolFailure(
      { tool: 'nvidiaSmi', subcommand: 'query-gpu', args: ['-i', '7'], exitCode: 6, stdout: section('nvidia-idle.txt', 'bad index'), stderr: '' },
      undefined,
    );
    expect(noDevice).toBeInstanceOf(NotFoundError);
  });
});
