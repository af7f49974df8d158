/** Cluster-wide placement policy. Per-guest constraints live in each guest's `placement` and `gpu`. */
import { z } from 'zod';

export const weightsSchema = z.strictObject({
  cpu: z.number().min(0).max(100).default(1),
  memory: z.number().min(0).max(100).default(1),
  gpu: z.number().min(0).max(100).default(1),
  storage: z.number().min(0).max(100).default(0.5),
});

export const schedulingSchema = z.strictObject({
  strategy: z
    .enum(['binpack', 'spread'])
    .default('binpack')
    .describe('binpack fills nodes before using new ones; spread balances load'),
  weights: weightsSchema.default({ cpu: 1, memory: 1, gpu: 1, storage: 0.5 }),
  overcommit: z
    .strictObject({
      cpu: z.number().min(0.1).max(64).default(4).describe('vCPUs per physical core'),
      memory: z.number().min(0.1).max(4).default(1),
    })
    .default({ cpu: 4, memory: 1 }),
  templateCopies: z
    .enum(['allow', 'deny'])
    .default('allow')
    .describe('may a clone go to a node that lacks its template (the template is copied there first)?'),
  templateCopyCost: z.number().min(0).max(10).default(0.25).describe('score penalty for a planned template copy'),
  gpuNodePenalty: z
    .number()
    .min(0)
    .max(10)
    .default(0.1)
    .describe('score penalty for putting a guest without GPUs on a node with GPUs'),
});
export type SchedulingSpec = z.output<typeof schedulingSchema>;
