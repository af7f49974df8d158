/**
 * Containers and VMs. Both share one base (sizes, network, features, placement, ordering); each adds
 * what only its kind has. Sizes carry their unit in the name (MiB, GiB); anything left out is filled
 * from `defaults` by compileSpec().
 */
import { z } from 'zod';
import {
  featureNameSchema,
  hostnameSchema,
  nodeNameSchema,
  snapshotNameSchema,
  storageIdSchema,
  usernameSchema,
  vmidSchema,
} from '@phoenix/shared';
import { guestNicSchema } from './network.js';
import {
  absolutePathSchema,
  domainSchema,
  firewallSchema,
  labelsSchema,
  nonNegativeInt,
  positiveInt,
  refNameSchema,
} from './primitives.js';

export const gpuRequestSchema = z
  .strictObject({
    count: positiveInt(16).default(1),
    model: z.string().min(1).max(64).optional().describe('matched word-wise against the node GPU name, e.g. H100'),
    minFreeMemoryMiB: positiveInt(1_048_576).optional().describe('per GPU, from live telemetry'),
    maxUtilizationPct: z.number().min(0).max(100).optional(),
    devices: z.array(nonNegativeInt(63)).optional().describe('pin these GPU indices on the node'),
    passthrough: z
      .enum(['device', 'pci'])
      .optional()
      .describe('device: share /dev/nvidia* with a container; pci: whole GPU to a VM (exclusive)'),
    driverVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/).optional().describe('user-space driver in the guest'),
  })
  .refine((g) => g.devices === undefined || g.devices.length === g.count, {
    message: 'devices must list exactly count GPU indices',
    path: ['devices'],
  });
export type GpuRequest = z.output<typeof gpuRequestSchema>;

const bindMountSchema = z.strictObject({
  type: z.literal('bind'),
  hostPath: absolutePathSchema,
  path: absolutePathSchema,
  ownerUid: nonNegativeInt(65535).optional(),
  ownerGid: nonNegativeInt(65535).optional(),
  readOnly: z.boolean().default(false),
});
const volumeMountSchema = z.strictObject({
  type: z.literal('volume'),
  name: refNameSchema.optional(),
  storage: storageIdSchema,
  sizeGiB: positiveInt(65536),
  path: absolutePathSchema.optional().describe('mount point in a container; VMs get a disk'),
});
const nfsMountSchema = z.strictObject({
  type: z.literal('nfs'),
  name: refNameSchema.optional(),
  server: z.string().min(1).max(253),
  export: absolutePathSchema,
  path: absolutePathSchema,
  options: z.array(z.string()).default(['defaults', 'nofail']),
});
export const mountSchema = z.discriminatedUnion('type', [bindMountSchema, volumeMountSchema, nfsMountSchema]);
export type Mount = z.output<typeof mountSchema>;

export const healthCheckSchema = z.strictObject({
  command: z.array(z.string().min(1)).min(1).describe('argv run inside the guest, never through a shell'),
  retries: positiveInt(100).default(3),
  intervalSeconds: positiveInt(3600).default(5),
});

export const startSchema = z.strictObject({
  onBoot: z.boolean().default(false),
  order: nonNegativeInt(10_000).optional(),
  upDelaySeconds: nonNegativeInt(3600).optional(),
  downDelaySeconds: nonNegativeInt(3600).optional(),
});

export const placementSchema = z.strictObject({
  node: nodeNameSchema.optional().describe('pin to this node'),
  labels: labelsSchema.optional().describe('the node must carry all these labels'),
  antiAffinity: z.array(refNameSchema).optional().describe('no two guests of a group on one node'),
});
export type PlacementSpec = z.output<typeof placementSchema>;

export const lifecycleSnapshotsSchema = z.strictObject({
  beforeFeatures: snapshotNameSchema.optional(),
  afterFeatures: snapshotNameSchema.optional(),
});

const stackUseSchema = z.strictObject({
  name: refNameSchema,
  environment: refNameSchema.default('production'),
});

const guestBase = {
  name: hostnameSchema.describe('unique guest name, also the hostname'),
  vmid: vmidSchema.optional().describe('allocated when left out'),
  description: z.string().max(1024).optional(),
  template: refNameSchema.optional().describe('entry of templates to create or clone from'),
  cores: positiveInt(512).optional(),
  memoryMiB: positiveInt(16_777_216).optional(),
  diskGiB: positiveInt(65_536).optional(),
  storage: storageIdSchema.optional().describe('storage of the root disk; chosen by the scheduler when left out'),
  network: guestNicSchema.optional(),
  mounts: z.array(mountSchema).optional(),
  gpu: gpuRequestSchema.optional(),
  features: z.array(featureNameSchema).optional().describe('feature library entries, applied in this order'),
  applicationScript: z.string().regex(/^[A-Za-z0-9._/-]+$/).optional(),
  appConfig: z.record(z.string(), z.unknown()).optional().describe('parameters for features and the application'),
  ports: z.array(z.string().regex(/^\d{1,5}:\d{1,5}(\/(tcp|udp))?$/, 'ports are host:guest')).optional(),
  healthCheck: healthCheckSchema.optional(),
  start: startSchema.optional(),
  snapshotAsTemplate: snapshotNameSchema.optional().describe('snapshot taken at the end; clones start from it'),
  lifecycleSnapshots: lifecycleSnapshotsSchema.optional(),
  dependencies: z.array(hostnameSchema).optional().describe('guests (containers or VMs) to build first'),
  placement: placementSchema.optional(),
  firewall: firewallSchema.optional(),
  dockerStacks: z.array(stackUseSchema).optional(),
  tags: z.array(z.string().regex(/^[a-z0-9][a-z0-9_+.-]*$/i)).optional(),
};

const pveFeaturesSchema = z.strictObject({
  nesting: z.boolean().optional(),
  keyctl: z.boolean().optional(),
  fuse: z.boolean().optional(),
  mknod: z.boolean().optional(),
  mount: z.array(z.string().regex(/^[a-z0-9]+$/)).optional().describe('allowed file system types, e.g. nfs'),
});

const idmapSchema = z.strictObject({
  type: z.enum(['uid', 'gid']),
  containerId: nonNegativeInt(4_294_967_294),
  hostId: nonNegativeInt(4_294_967_294),
  size: positiveInt(4_294_967_295).default(1),
});

export const containerSchema = z.strictObject({
  ...guestBase,
  swapMiB: nonNegativeInt(16_777_216).optional(),
  unprivileged: z.boolean().optional(),
  pveFeatures: pveFeaturesSchema.optional(),
  apparmor: z
    .strictObject({
      profile: z.string().regex(/^[A-Za-z0-9._-]+$/),
      allowNesting: z.boolean().default(false),
    })
    .optional(),
  idmap: z.array(idmapSchema).optional().describe('extra id ranges mapped 1:1 around the default map'),
  lxcRaw: z
    .array(z.string().regex(/^lxc\.[a-z0-9_.]+: .+$/, 'raw lines are "lxc.key: value"'))
    .optional()
    .describe('raw lxc.* lines, each kept whole'),
});
export type ContainerSpec = z.output<typeof containerSchema>;

export const vmSchema = z.strictObject({
  ...guestBase,
  convertToTemplate: z.boolean().optional().describe('turn into a Proxmox template at the end (qm template)'),
  sockets: positiveInt(16).optional(),
  cpuType: z.string().regex(/^[A-Za-z0-9_.+-]+$/).optional(),
  bios: z.enum(['seabios', 'ovmf']).optional(),
  machine: z.enum(['i440fx', 'q35']).optional(),
  cloudInit: z
    .strictObject({
      user: usernameSchema.optional(),
      searchDomain: domainSchema.optional(),
    })
    .optional(),
});
export type VmSpec = z.output<typeof vmSchema>;
