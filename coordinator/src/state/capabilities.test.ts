import { describe, expect, it } from 'vitest';
import { FEATURE_MIN_VERSION, parseServerVersion, versionAtLeast } from './capabilities.js';

describe('server capability gating', () => {
  it('parses server versions, with or without a leading v and suffixes', () => {
    expect(parseServerVersion('2.9.10')).toMatchObject({ major: 2, minor: 9, patch: 10 });
    expect(parseServerVersion('v2.11.0-RC.1')).toMatchObject({ major: 2, minor: 11, patch: 0 });
    expect(() => parseServerVersion('unknown')).toThrow(/version/);
  });

  it('compares numerically, not as text', () => {
    const v2910 = parseServerVersion('2.9.10');
    expect(versionAtLeast(v2910, '2.9.9')).toBe(true);
    expect(versionAtLeast(v2910, '2.10.0')).toBe(false);
    expect(versionAtLeast(parseServerVersion('2.10.2'), '2.9.10')).toBe(true);
    expect(versionAtLeast(parseServerVersion('3.0.0'), '2.11.0')).toBe(true);
  });

  it('gates per-key TTL to 2.11 and multi-filter to 2.10 (Debian 2.9 has neither)', () => {
    const debian = parseServerVersion('2.9.10');
    expect(versionAtLeast(debian, FEATURE_MIN_VERSION.perKeyTtl)).toBe(false);
    expect(versionAtLeast(debian, FEATURE_MIN_VERSION.multiFilter)).toBe(false);
    expect(versionAtLeast(parseServerVersion('2.11.4'), FEATURE_MIN_VERSION.perKeyTtl)).toBe(true);
  });
});
