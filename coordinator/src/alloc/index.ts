export { Allocator, DEFAULT_VMID_RANGE } from './allocator.js';
export type {
  AllocateOptions,
  Allocation,
  AllocationRequest,
  AllocatorOptions,
  AllocatorStats,
  NicAllocation,
  NicRequest,
} from './allocator.js';
export { AllocationClashError } from './errors.js';
export { formatIpv4, parseAddressRange, parseIpv4, parseStaticAddress, parseSubnet, subnetContains, usableHosts } from './ipv4.js';
export type { AddressRange, Subnet } from './ipv4.js';
export { DEFAULT_MAC_PREFIX, macAt, macSeed, normalizeMac, parseMacPrefix } from './mac.js';
export type { MacPrefix } from './mac.js';
export { Network, ipPoolConfigSchema, networkConfigSchema } from './network.js';
export type { NetworkConfig } from './network.js';
export { guestRecordSchema, holderSchema } from './records.js';
export type { GuestRecord, HeldValue, Holder, PendingClaim, ValueKind } from './records.js';
