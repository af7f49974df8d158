import { describe, expect, it } from 'vitest';
import {
  formatPath,
  bridgeSchema,
  cidrSchema,
  datasetSchema,
  hostnameSchema,
  macSchema,
  nodeNameSchema,
  parseOrThrow,
  snapshotNameSchema,
  storageIdSchema,
  vmidLooseSchema,
  vmidSchema,
} from './validators.js';
import { InvalidArgumentError } from './errors.js';

const ok = (s: { safeParse(v: unknown): { success: boolean } }, v: unknown) => s.safeParse(v).success;

describe('validators - command-line identifiers', () => {
  it('VMIDs follow pve-vmid', () => {
    expect(ok(vmidSchema, 100)).toBe(true);
    expect(ok(vmidSchema, 999_999_999)).toBe(true);
    expect(ok(vmidSchema, 99)).toBe(false);
    expect(ok(vmidSchema, 100.5)).toBe(false);
    expect(vmidLooseSchema.parse('950')).toBe(950);
    expect(ok(vmidLooseSchema, '0950')).toBe(false);
    expect(ok(vmidLooseSchema, '--force')).toBe(false);
  });

  it('rejects anything that could be read as an option or a path', () => {
    for (const schema of [nodeNameSchema, hostnameSchema, storageIdSchema, snapshotNameSchema, bridgeSchema, datasetSchema]) {
      expect(ok(schema, '-rf')).toBe(false);
      expect(ok(schema, '../etc')).toBe(false);
      expect(ok(schema, 'a b')).toBe(false);
      expect(ok(schema, '')).toBe(false);
    }
  });

  it('accepts real names', () => {
    expect(ok(nodeNameSchema, 'pve-01')).toBe(true);
    expect(ok(hostnameSchema, 'vllm.internal.example')).toBe(true);
    expect(ok(storageIdSchema, 'local-zfs')).toBe(true);
    expect(ok(snapshotNameSchema, 'base-snapshot')).toBe(true);
    expect(ok(datasetSchema, 'rpool/data/subvol-100-disk-0')).toBe(true);
    expect(ok(bridgeSchema, 'vmbr0')).toBe(true);
    expect(ok(macSchema, 'BC:24:11:00:00:01')).toBe(true);
    expect(ok(cidrSchema, '10.0.0.5/24')).toBe(true);
  });

  it('rejects reserved snapshot names, multicast MACs and bad CIDRs', () => {
    expect(ok(snapshotNameSchema, 'current')).toBe(false);
    expect(ok(snapshotNameSchema, 'a')).toBe(false);
    expect(ok(snapshotNameSchema, 'x'.repeat(41))).toBe(false);
    expect(ok(macSchema, '01:00:5e:00:00:01')).toBe(false);
    expect(ok(cidrSchema, '10.0.0.256/24')).toBe(false);
    expect(ok(cidrSchema, '10.0.0.5/33')).toBe(false);
    expect(ok(cidrSchema, '10.0.0.5')).toBe(false);
  });

  it('parseOrThrow names the field and value', () => {
    expect(() => parseOrThrow(vmidSchema, 42, 'guest.vmid')).toThrow(InvalidArgumentError);
    expect(() => parseOrThrow(vmidSchema, 42, 'guest.vmid')).toThrow(/guest\.vmid: .*\(got 42\)/);
  });
});

describe('formatPath', () => {
  it('joins plain names and indices with dots and quotes any other key', () => {
    expect(formatPath(['containers', 3, 'net0'])).toBe('containers.3.net0');
    expect(formatPath(['openshift.0', 'nodes', 1])).toBe('openshift.0.nodes.1');
    expect(formatPath(['', 'labels', 'a b', 'x.y', ''])).toBe('labels["a b"]["x.y"]');
    expect(formatPath(['vms', 1, 'network', ' '])).toBe('vms.1.network[" "]');
  });
});
