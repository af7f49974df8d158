import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EmulatorError } from './errors.js';
import type { ObjectSchema } from './schema.js';

/**
 * Data files that ship with the emulator (test/emulator/data). The module runs both from
 * sources (test/emulator/src/core) and from the build (test/dist/emulator/src/core), so both relative
 * locations are tried.
 */
export function dataFile(name: string): string {
  const candidates = [new URL(`../../data/${name}`, import.meta.url), new URL(`../../../../emulator/data/${name}`, import.meta.url)];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (fs.existsSync(p)) return p;
  }
  throw new EmulatorError('EMU_DATA_MISSING', `emulator data file '${name}' not found`);
}

export interface ApiEndpoint {
  name: string;
  parameters: ObjectSchema;
}

export interface ApiParams {
  endpoints: Record<string, ApiEndpoint>;
  formats: Record<string, { format: unknown; typetext?: string }>;
}

/** `$PVE_EMU_FIXTURES` may point at a fixtures folder (with api-params.json or proxmox/api-params.json). */
export function apiParamsPath(env: NodeJS.ProcessEnv = process.env): string {
  const override = env['PVE_EMU_FIXTURES'];
  if (override) {
    for (const p of [`${override}/api-params.json`, `${override}/proxmox/api-params.json`]) if (fs.existsSync(p)) return p;
    throw new EmulatorError('EMU_DATA_MISSING', `PVE_EMU_FIXTURES='${override}' holds no api-params.json`);
  }
  return dataFile('api-params.json');
}

let apiParams: ApiParams | undefined;
export function loadApiParams(): ApiParams {
  apiParams ??= JSON.parse(fs.readFileSync(apiParamsPath(), 'utf8')) as ApiParams;
  return apiParams;
}

export interface CmdDef {
  method?: string;
  args?: string[];
  fixed?: string[];
  fixedValues?: Record<string, unknown>;
  alias?: string;
  group?: Record<string, CmdDef>;
  class?: string;
}

export interface CliCommands {
  tools: Record<string, Record<string, CmdDef>>;
  schemas: Record<string, ObjectSchema>;
}

let cliCommands: CliCommands | undefined;
export function loadCliCommands(): CliCommands {
  cliCommands ??= JSON.parse(fs.readFileSync(dataFile('cli-commands.json'), 'utf8')) as CliCommands;
  return cliCommands;
}
