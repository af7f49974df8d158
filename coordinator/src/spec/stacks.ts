/** Docker compose stacks that VMs run (Phoenix E4 `phoenix_stacks_config.json` + stack manifests). */
import { z } from 'zod';
import { absolutePathSchema, firewallRuleSchema, refNameSchema, secretRefSchema } from './primitives.js';

const variableSchema = z.union([
  z.strictObject({ name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), value: z.string() }),
  z.strictObject({ name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), secretRef: secretRefSchema }),
]);

const environmentSchema = z.strictObject({
  variables: z.array(variableSchema).default([]),
  files: z
    .array(z.strictObject({ source: z.string().min(1), destination: absolutePathSchema }))
    .default([]),
  services: z.record(z.string(), z.strictObject({ labels: z.array(z.string()).default([]) })).default({}),
  firewall: z.array(firewallRuleSchema).default([]),
});

export const stackSchema = z.strictObject({
  name: refNameSchema,
  description: z.string().max(1024).optional(),
  composeFile: z.string().min(1),
  environments: z.record(refNameSchema, environmentSchema).default({}),
});
export type StackSpec = z.output<typeof stackSchema>;
