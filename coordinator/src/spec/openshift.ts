/**
 * OpenShift clusters on Proxmox VMs (the ProxShift model, docs/reference/phoenix-proxshift.md §3): single node, compact (three
 * schedulable control-plane nodes) or multi-node. Credentials are references, never values.
 */
import { z } from 'zod';
import { cidrSchema, ipv4Schema, macSchema, nodeNameSchema, storageIdSchema, vmidSchema } from '@phoenix/shared';
import { domainSchema, labelsSchema, positiveInt, secretRefSchema } from './primitives.js';

const diskSchema = z.strictObject({
  sizeGiB: positiveInt(65_536),
  storage: storageIdSchema.optional(),
  wwn: z.string().regex(/^0x[0-9a-fA-F]{16}$/, 'wwn like 0x5000c50055f2f437').optional(),
});

const roleSizeSchema = z.strictObject({
  cores: positiveInt(512),
  memoryMiB: positiveInt(16_777_216),
  diskGiB: positiveInt(65_536),
  storage: storageIdSchema.optional(),
  sockets: positiveInt(16).default(1),
  extraDisks: z.array(diskSchema).default([]),
});

const ocpNodeSchema = z.strictObject({
  name: nodeNameSchema.describe('node host name inside the cluster, unique among all guests'),
  role: z.enum(['control-plane', 'worker']),
  vmid: vmidSchema.optional(),
  mac: macSchema.optional().describe('allocated when left out'),
  ip: ipv4Schema.optional().describe('allocated from the machine network when left out'),
  cores: positiveInt(512).optional(),
  memoryMiB: positiveInt(16_777_216).optional(),
  diskGiB: positiveInt(65_536).optional(),
  storage: storageIdSchema.optional(),
  sockets: positiveInt(16).optional(),
  extraDisks: z.array(diskSchema).optional(),
  rootDeviceWwn: z.string().regex(/^0x[0-9a-fA-F]{16}$/).optional(),
  onBoot: z.boolean().optional().describe('start the VM when its Proxmox node boots (default true)'),
  placement: z
    .strictObject({ node: nodeNameSchema.optional(), labels: labelsSchema.optional() })
    .optional(),
});

/** OpenShift cluster names: lower-case DNS labels (they become part of every host name). */
export const OPENSHIFT_CLUSTER_NAME = /^[a-z][a-z0-9-]{0,52}$/;

export const openshiftClusterSchema = z.strictObject({
  name: z.string().regex(OPENSHIFT_CLUSTER_NAME, 'cluster names are lower-case DNS labels'),
  topology: z.enum(['sno', 'compact', 'multi-node']),
  baseDomain: domainSchema,
  version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'OpenShift version like 4.19.1'),
  apiVip: ipv4Schema.optional().describe('required unless sno'),
  ingressVip: ipv4Schema.optional().describe('required unless sno'),
  rendezvousIp: ipv4Schema.optional().describe('defaults to the first control-plane node'),
  network: z.strictObject({
    machineCidr: cidrSchema,
    gateway: ipv4Schema,
    nameservers: z.array(ipv4Schema).min(1),
    interface: z.string().regex(/^[a-z][a-z0-9]{0,14}$/).default('ens18'),
    bridge: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/).default('vmbr0'),
    vlan: z.number().int().min(1).max(4094).optional(),
    clusterCidr: cidrSchema.default('10.128.0.0/14'),
    hostPrefix: z.number().int().min(8).max(30).default(23),
    serviceCidr: cidrSchema.default('172.30.0.0/16'),
    // Any name is read so that compile can refuse it the way the installer does, with the path.
    networkType: z.string().min(1).default('OVNKubernetes').describe('only OVNKubernetes is supported'),
  }),
  roles: z.strictObject({
    controlPlane: roleSizeSchema,
    worker: roleSizeSchema.optional(),
  }),
  nodes: z.array(ocpNodeSchema).min(1),
  pullSecret: secretRefSchema,
  sshKey: secretRefSchema,
  trustBundle: secretRefSchema.optional(),
  isoStorage: storageIdSchema.optional().describe('Proxmox storage for the agent ISO'),
  hub: z.boolean().default(false).describe('the ACM hub cluster'),
});
export type OpenShiftClusterSpec = z.output<typeof openshiftClusterSchema>;

/** The one network type the agent-based installer accepts. */
export const OPENSHIFT_NETWORK_TYPE = 'OVNKubernetes';

/** Control-plane sizes the installer accepts (4.18 and later: 5, 4, 3 or 1). */
export const CONTROL_PLANE_REPLICAS: readonly number[] = [1, 3, 4, 5];

export interface NodeMinimum {
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly diskGiB: number;
}

/**
 * Smallest nodes the agent-based installer is documented for ("Recommended resources for
 * topologies": single-node, compact and HA control plane 8 vCPUs / 16 GB RAM / 120 GB; compute
 * nodes 2 vCPUs / 8 GB RAM / 100 GB as in the bare-metal minimums and assisted-service's worker
 * requirements). Memory is counted as assisted-service counts it (16384 MiB).
 */
export const AGENT_INSTALLER_MINIMUM: Readonly<Record<'control-plane' | 'worker', NodeMinimum>> = {
  'control-plane': { vcpus: 8, memoryMiB: 16_384, diskGiB: 120 },
  worker: { vcpus: 2, memoryMiB: 8_192, diskGiB: 100 },
};
