import fs from 'node:fs';
import path from 'node:path';
import { EmulatorError } from './errors.js';

/** Settings of one emulated node, all taken from the environment of the invocation. */
export interface EmuEnv {
  stateDir: string;
  node: string;
  timeScale: number;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): EmuEnv {
  const stateDir = env['PVE_EMU_STATE'];
  if (!stateDir) {
    throw new EmulatorError('EMU_NO_STATE', 'PVE_EMU_STATE is not set; it must name the state directory of the emulated node');
  }
  const node = env['PVE_EMU_NODE'] || 'pve';
  const dir = path.resolve(stateDir);
  // A per-node override (written by setTimeScale) lets tests change the pace of a running node.
  let scale = env['PVE_EMU_TIME_SCALE'];
  try {
    scale = fs.readFileSync(path.join(dir, 'time-scale'), 'utf8').trim();
  } catch {
    // no override
  }
  return { stateDir: dir, node, timeScale: parseTimeScale(scale) };
}

export function parseTimeScale(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    throw new EmulatorError('EMU_BAD_TIME_SCALE', `PVE_EMU_TIME_SCALE must be a non-negative number, got '${raw}'`);
  }
  return n;
}
