/** Networks, IP pools and a guest's network attachment. */
import { z } from 'zod';
import { bridgeSchema, cidrSchema, ipv4Schema, macSchema } from '@phoenix/shared';
import { domainSchema, ipRangeSchema, refNameSchema } from './primitives.js';

export const ipPoolSchema = z.strictObject({
  name: refNameSchema,
  range: ipRangeSchema,
});

export const networkSchema = z.strictObject({
  name: refNameSchema,
  bridge: bridgeSchema,
  cidr: cidrSchema.describe('the subnet, e.g. 10.0.0.0/24'),
  gateway: ipv4Schema.optional(),
  vlan: z.number().int().min(1).max(4094).optional(),
  nameservers: z.array(ipv4Schema).default([]),
  searchDomain: domainSchema.optional(),
  pools: z.array(ipPoolSchema).default([]).describe('ranges that guests can be given addresses from'),
});
export type NetworkSpec = z.output<typeof networkSchema>;

/**
 * A guest's first network interface. Either a static `ip` (CIDR), `ip: dhcp`, or a `pool` to be
 * allocated from; with none of them the guest uses DHCP. `network` names an entry of `networks`,
 * which supplies bridge, gateway, VLAN and nameservers unless given here.
 */
export const guestNicSchema = z.strictObject({
  network: refNameSchema.optional(),
  name: z
    .string()
    .regex(/^[a-z][a-z0-9]{0,14}$/, 'interface name like eth0')
    .optional()
    .describe('interface name inside a container (eth0)'),
  bridge: bridgeSchema.optional(),
  ip: z.union([cidrSchema, z.literal('dhcp')]).optional(),
  pool: refNameSchema.optional(),
  gateway: ipv4Schema.optional(),
  mac: macSchema.optional(),
  vlan: z.number().int().min(1).max(4094).optional(),
  nameservers: z.array(ipv4Schema).optional(),
  firewall: z.boolean().optional(),
});
export type GuestNic = z.output<typeof guestNicSchema>;
