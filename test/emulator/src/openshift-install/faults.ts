import fs from 'node:fs';

/**
 * Faults of the emulated installer, read on every invocation from the JSON file named by
 * PHOENIX_EMU_OPENSHIFT_FAULTS (absent or unreadable: no faults):
 *
 *   { "bootstrapTimeout": true }     the bootstrap never completes; wait-for exits 5 once its
 *                                    (scaled) 60-minute timeout has passed
 *   { "hostError": "<hostname>" }    that host fails while writing its image; a control-plane
 *                                    host keeps bootstrap from completing (exit 5), a worker
 *                                    keeps the installation from completing (exit 6)
 */
export interface OpenShiftFaults {
  bootstrapTimeout?: boolean;
  hostError?: string;
}

export const FAULTS_ENV = 'PHOENIX_EMU_OPENSHIFT_FAULTS';

export function readOpenShiftFaults(env: NodeJS.ProcessEnv = process.env): OpenShiftFaults {
  const file = env[FAULTS_ENV];
  if (!file) return {};
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (v === null || typeof v !== 'object') return {};
    const f = v as Record<string, unknown>;
    return {
      ...(f['bootstrapTimeout'] === true ? { bootstrapTimeout: true } : {}),
      ...(typeof f['hostError'] === 'string' ? { hostError: f['hostError'] } : {}),
    };
  } catch {
    return {};
  }
}
