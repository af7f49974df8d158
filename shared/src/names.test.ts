import { describe, expect, it } from 'vitest';
import { subjects, buckets } from './names.js';

describe('names - subjects', () => {
  it('builds per-node subjects', () => {
    expect(subjects.telemetry('lab', 'pve1', 'gpu')).toBe('phoenix.telemetry.lab.pve1.gpu');
    expect(subjects.health('lab', 'pve1')).toBe('phoenix.health.lab.pve1');
    expect(buckets.alloc).toBe('phoenix_alloc');
  });
  it('refuses tokens that would widen a subject', () => {
    expect(() => subjects.telemetry('lab', 'pve1.>', 'node')).toThrow(/node/);
    expect(() => subjects.health('lab', '*')).toThrow(/node/);
    expect(() => subjects.telemetry('Lab X', 'pve1', 'node')).toThrow(/cluster/);
  });
});
