/**
 * Host setup as declarative data: what `phoenix setup` (and the agent) converge a Proxmox node to.
 * It covers what Phoenix's hypervisor setup did (docs/reference/phoenix-proxshift.md §1.1, §2.8) without its bugs: NFS options
 * apply to every client, Samba share options are honoured, the firewall lives in one place.
 */
import { z } from 'zod';
import {
  bridgeSchema,
  cidrSchema,
  datasetSchema,
  ipv4Schema,
  poolNameSchema,
  storageIdSchema,
  usernameSchema,
} from '@phoenix/shared';
import {
  absolutePathSchema,
  addressOrCidrSchema,
  domainSchema,
  firewallRuleSchema,
  refNameSchema,
  secretRefSchema,
} from './primitives.js';

export const STORAGE_CONTENT = ['images', 'rootdir', 'iso', 'vztmpl', 'backup', 'snippets'] as const;
export const storageContentSchema = z.enum(STORAGE_CONTENT);

const hostBridgeSchema = z.strictObject({
  name: bridgeSchema,
  address: cidrSchema.optional().describe('host address on this bridge, e.g. 10.0.0.13/24'),
  gateway: ipv4Schema.optional(),
});

const hostNetworkSchema = z.strictObject({
  hostname: z.string().max(63).optional(),
  bridges: z.array(hostBridgeSchema).default([]),
  nameservers: z.array(ipv4Schema).default([]),
  searchDomain: domainSchema.optional(),
});

const zfsPoolSchema = z.strictObject({
  name: poolNameSchema,
  layout: z.enum(['stripe', 'mirror', 'raidz1', 'raidz2', 'raidz3']).default('stripe'),
  disks: z
    .array(z.string().regex(/^\/dev\/[A-Za-z0-9._:/+-]+$/, 'disks are /dev paths, preferably /dev/disk/by-id/...'))
    .min(1),
  allowDestructive: z
    .boolean()
    .default(false)
    .describe('create the pool even on disks that hold partitions, file systems or another pool (their data is lost)'),
});

const datasetStorageSchema = z.strictObject({
  id: storageIdSchema,
  type: z.enum(['zfspool', 'dir']),
  content: z.array(storageContentSchema).min(1),
});

const zfsDatasetSchema = z.strictObject({
  name: datasetSchema.describe('pool/name'),
  properties: z.record(z.string().regex(/^[a-z][a-z0-9_:.]*$/), z.string()).default({}),
  storage: datasetStorageSchema.optional().describe('register the dataset as a Proxmox storage'),
});

const zfsSchema = z.strictObject({
  arcMaxGiB: z.number().int().min(1).max(4096).optional(),
  pools: z.array(zfsPoolSchema).default([]),
  datasets: z.array(zfsDatasetSchema).default([]),
});

const nfsStorageSchema = z.strictObject({
  id: storageIdSchema,
  type: z.literal('nfs'),
  server: z.string().min(1).max(253),
  export: absolutePathSchema,
  content: z.array(storageContentSchema).min(1),
  options: z.array(z.string().regex(/^[a-z0-9_]+(=[A-Za-z0-9._-]+)?$/)).default([]),
});

const nfsExportSchema = z.strictObject({
  path: absolutePathSchema,
  clients: z.array(z.union([addressOrCidrSchema, domainSchema])).min(1),
  options: z.array(z.string().regex(/^[a-z_]+(=[A-Za-z0-9._-]+)?$/)).default(['rw', 'sync', 'no_subtree_check']),
});

const sambaShareSchema = z.strictObject({
  name: refNameSchema,
  path: absolutePathSchema,
  browsable: z.boolean().default(true),
  readOnly: z.boolean().default(false),
  guestOk: z.boolean().default(false),
  validUsers: z.array(usernameSchema).default([]),
});

const sambaSchema = z.strictObject({
  user: usernameSchema,
  passwordRef: secretRefSchema.optional(),
  shares: z.array(sambaShareSchema).default([]),
});

const hostUserSchema = z.strictObject({
  name: usernameSchema,
  sudo: z.boolean().default(false),
  sshPublicKeys: z.array(z.string().regex(/^(ssh|ecdsa)-[A-Za-z0-9-]+ [A-Za-z0-9+/=]+( .*)?$/)).default([]),
  passwordHashRef: secretRefSchema.optional(),
  proxmoxRole: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/).optional().describe('e.g. Administrator, on path /'),
});

const nvidiaSchema = z.strictObject({
  install: z.boolean().default(true),
  driverVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'driver version like 580.76.05'),
  runfileUrl: z.url().optional(),
  cudaVersion: z.string().regex(/^\d+\.\d+$/).optional(),
  cudaRepoUrl: z.url().optional(),
});

const hostFirewallSchema = z.strictObject({
  enabled: z.boolean().default(true),
  policyIn: z.enum(['ACCEPT', 'DROP', 'REJECT']).default('DROP'),
  policyOut: z.enum(['ACCEPT', 'DROP', 'REJECT']).default('ACCEPT'),
  rules: z.array(firewallRuleSchema).default([]),
});

const dnsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  upstreams: z.array(ipv4Schema).default([]),
  zones: z.array(domainSchema).default([]),
});

export const hostSetupSchema = z
  .strictObject({
    timezone: z.string().regex(/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/).optional(),
    network: hostNetworkSchema.optional(),
    zfs: zfsSchema.optional(),
    storages: z.array(nfsStorageSchema).default([]).describe('extra Proxmox storages (NFS)'),
    nfs: z.strictObject({ exports: z.array(nfsExportSchema).default([]) }).optional(),
    samba: sambaSchema.optional(),
    users: z.array(hostUserSchema).default([]),
    nvidia: nvidiaSchema.optional(),
    firewall: hostFirewallSchema.optional(),
    dns: dnsSchema.optional(),
    apparmorProfiles: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/),
          content: z.string().min(1).describe('the AppArmor policy text; it declares "profile <name>"'),
        }),
      )
      .default([])
      .describe('custom AppArmor profiles containers name, beyond the built-in Phoenix ones'),
  })
  .describe('declarative host setup of a Proxmox node');
export type HostSetup = z.output<typeof hostSetupSchema>;
