/**
 * Small schemas shared by every part of the cluster spec. Identifiers that reach a Proxmox command
 * line come from `@phoenix/shared` (one rule per tool); the ones here are our own names.
 */
import { z } from 'zod';
import { ipv4Schema, cidrSchema } from '@phoenix/shared';

/** Names of things the spec refers to by name: templates, networks, pools, groups, profiles. */
export const refNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'names use letters, digits, . _ - (at most 63, letter or digit first)');

/** A DNS domain such as `internal.example.org`. */
export const domainSchema = z
  .string()
  .max(253)
  .regex(
    /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/,
    'must be a DNS domain',
  );

/** Label keys follow the Kubernetes shape (optional prefix/, then a name); values are short strings. */
export const labelKeySchema = z
  .string()
  .max(128)
  .regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/, 'label keys are [prefix/]name');
export const labelValueSchema = z
  .string()
  .max(63)
  .regex(/^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/, 'label values are letters, digits, . _ -');
export const labelsSchema = z.record(labelKeySchema, labelValueSchema);

export const absolutePathSchema = z
  .string()
  .max(4096)
  .regex(/^\/[^\0\n]*$/, 'must be an absolute path')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ..');

/** An IPv4 address or an IPv4 CIDR: firewall sources and destinations, NFS clients. */
export const addressOrCidrSchema = z.union([ipv4Schema, cidrSchema]);

/** `10.0.0.100-10.0.0.199`: an inclusive IPv4 range inside one network. */
export const ipRangeSchema = z
  .string()
  .regex(
    /^\d{1,3}(\.\d{1,3}){3}-\d{1,3}(\.\d{1,3}){3}$/,
    'range must be first-last, e.g. 10.0.0.100-10.0.0.199',
  );

export const positiveInt = (max: number) => z.number().int().min(1).max(max);
export const nonNegativeInt = (max: number) => z.number().int().min(0).max(max);

/**
 * A reference into a secret store. Credentials are never written into a spec: only where to read
 * them (`vault` KV path and key, or a file readable by the coordinator).
 */
export const secretRefSchema = z
  .strictObject({
    store: z.enum(['kv', 'vault', 'file']).default('kv').describe('where the secret lives'),
    path: z.string().min(1).max(1024).describe('sealed-KV path (kv), Vault KV v2 path (vault) or absolute file path (file)'),
    key: z.string().min(1).max(256).optional().describe('field inside the secret; default: its value field or its only field'),
  })
  .describe('a reference to a secret; the value itself never appears in a spec');
export type SecretRef = z.output<typeof secretRefSchema>;

export const firewallRuleSchema = z
  .strictObject({
    direction: z.enum(['in', 'out']),
    action: z.enum(['ACCEPT', 'DROP', 'REJECT']),
    source: addressOrCidrSchema.optional(),
    dest: addressOrCidrSchema.optional(),
    proto: z.enum(['tcp', 'udp', 'icmp']).optional(),
    port: z
      .string()
      .regex(/^\d{1,5}(:\d{1,5})?(,\d{1,5}(:\d{1,5})?)*$/, 'port is a list like "80,443" or a range "8000:8010"')
      .optional(),
    comment: z.string().max(256).optional(),
  })
  .refine((r) => r.port === undefined || r.proto === 'tcp' || r.proto === 'udp', {
    message: 'a port needs proto tcp or udp',
    path: ['port'],
  });
export type FirewallRule = z.output<typeof firewallRuleSchema>;

export const firewallSchema = z.strictObject({
  enabled: z.boolean().default(true),
  rules: z.array(firewallRuleSchema).default([]),
});
