/**
 * The cluster spec: one YAML document. `specSchema` is the input form (defaults applied by zod);
 * compileSpec() turns it into a CompiledSpec with every default and cross reference resolved.
 */
import { z } from 'zod';
import { clusterNameSchema, nodeNameSchema, storageIdSchema } from '@phoenix/shared';
import { containerSchema, vmSchema } from './guest.js';
import { hostSetupSchema } from './host.js';
import { networkSchema } from './network.js';
import { openshiftClusterSchema } from './openshift.js';
import { domainSchema, labelsSchema, positiveInt, refNameSchema } from './primitives.js';
import { schedulingSchema } from './scheduling.js';
import { stackSchema } from './stacks.js';
import { featureDefSchema, templateSchema } from './templates.js';

export const SPEC_VERSION = 1;

const nodeSpecSchema = z.strictObject({
  name: nodeNameSchema,
  address: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'host or host:port of the agent')
    .optional()
    .describe('where the coordinator reaches the agent'),
  labels: labelsSchema.optional(),
  hostProfile: refNameSchema.optional().describe('entry of hostProfiles applied by setup'),
});

const sizeDefaultsSchema = z.strictObject({
  cores: positiveInt(512).optional(),
  memoryMiB: positiveInt(16_777_216).optional(),
  swapMiB: z.number().int().min(0).optional(),
  diskGiB: positiveInt(65_536).optional(),
  storage: storageIdSchema.optional(),
  network: refNameSchema.optional().describe('network used when a guest names none'),
  bridge: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/).optional(),
  unprivileged: z.boolean().optional(),
});

export const specSchema = z
  .strictObject({
    version: z.literal(SPEC_VERSION),
    cluster: z.strictObject({
      name: clusterNameSchema,
      domain: domainSchema.optional().describe('search domain for guests'),
    }),
    nodes: z.array(nodeSpecSchema).default([]),
    hostProfiles: z.record(refNameSchema, hostSetupSchema).default({}),
    defaults: z
      .strictObject({ container: sizeDefaultsSchema.optional(), vm: sizeDefaultsSchema.optional() })
      .default({}),
    features: z.array(featureDefSchema).default([]).describe('feature library entries beyond the built-in ones'),
    templates: z.array(templateSchema).default([]),
    networks: z.array(networkSchema).default([]),
    containers: z.array(containerSchema).default([]),
    vms: z.array(vmSchema).default([]),
    stacks: z.array(stackSchema).default([]),
    openshift: z.array(openshiftClusterSchema).default([]),
    scheduling: schedulingSchema.default({
      strategy: 'binpack',
      weights: { cpu: 1, memory: 1, gpu: 1, storage: 0.5 },
      overcommit: { cpu: 4, memory: 1 },
      templateCopies: 'allow',
      templateCopyCost: 0.25,
      gpuNodePenalty: 0.1,
    }),
  })
  .describe('Phoenix cluster spec');

/** What a user writes (defaults optional). */
export type SpecInput = z.input<typeof specSchema>;
/** After zod: defaults of the schema applied, cross references not yet checked. */
export type Spec = z.output<typeof specSchema>;
