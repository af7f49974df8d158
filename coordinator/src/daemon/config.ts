/** phoenix-coordinator configuration: YAML file → zod (errors name the field) → compiled values. */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { describeZodError, InvalidArgumentError } from '@phoenix/shared';
import { contextSchema } from '../cluster/context.js';

export const coordinatorConfigSchema = z.strictObject({
  /** Unique id of this coordinator (lease owner, journal actor). */
  id: z.string().regex(/^[a-zA-Z0-9._-]{1,64}$/),
  context: contextSchema,
  /** Lease TTL in milliseconds; renewal at 0.75×. @default 10000 */
  leaseTtlMs: z.number().int().min(1000).default(10_000),
  /** Pipelines running at once per node. @default 4 */
  perNodeConcurrency: z.number().int().min(1).max(64).default(4),
  /** Agents heartbeat at this interval; three missed make a node down. @default 2000 */
  heartbeatIntervalMs: z.number().int().min(100).default(2000),
  /** host:port for /metrics and /healthz; empty disables. */
  metricsListen: z.string().default(''),
});
export type CoordinatorConfig = z.infer<typeof coordinatorConfigSchema>;

export async function loadCoordinatorConfig(path: string): Promise<CoordinatorConfig> {
  let data: unknown;
  try {
    data = parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new InvalidArgumentError('--config', path, 'cannot read the config file', { cause });
  }
  const r = coordinatorConfigSchema.safeParse(data);
  if (!r.success) throw new InvalidArgumentError('config', path, describeZodError(r.error, data).join('; '), { cause: r.error });
  return r.data;
}
