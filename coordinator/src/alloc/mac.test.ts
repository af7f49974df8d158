import { InvalidArgumentError, macSchema } from '@phoenix/shared';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAC_PREFIX, macAt, macSeed, normalizeMac, parseMacPrefix } from './mac.js';

describe('MAC addresses', () => {
  const prefix = parseMacPrefix(DEFAULT_MAC_PREFIX);

  it('accepts only locally administered unicast prefixes (not Proxmox OUI BC:24:11)', () => {
    expect(prefix).toEqual({ octets: [0x02, 0x50, 0x48], bits: 24 });
    expect(() => parseMacPrefix('BC:24:11')).toThrow(/locally administered/);
    expect(() => parseMacPrefix('03:00:00')).toThrow(/unicast/);
    expect(() => parseMacPrefix('02:50:48:00:00:00')).toThrow(InvalidArgumentError);
    expect(parseMacPrefix('0A:00:00:01').bits).toBe(16);
  });

  it('numbers MACs under the prefix, wrapping within the suffix space', () => {
    expect(macAt(prefix, 0)).toBe('02:50:48:00:00:00');
    expect(macAt(prefix, 0xabcdef)).toBe('02:50:48:AB:CD:EF');
    expect(macAt(prefix, 2 ** 24 + 1)).toBe('02:50:48:00:00:01');
    expect(macSchema.safeParse(macAt(prefix, 12345)).success).toBe(true);
  });

  it('derives a stable, guest- and NIC-specific starting point', () => {
    const a = macSeed(prefix, 'vllm-qwen', 'net0');
    expect(macSeed(prefix, 'vllm-qwen', 'net0')).toBe(a);
    expect(macSeed(prefix, 'vllm-qwen', 'net1')).not.toBe(a);
    expect(macSeed(prefix, 'vllm-granite', 'net0')).not.toBe(a);
    expect(a).toBeGreaterThanOrEqual(0);
    expect(a).toBeLessThan(2 ** 24);
  });

  it('normalises configured MACs to upper case and refuses multicast and all-zero', () => {
    expect(normalizeMac('52:54:00:aa:bb:cc')).toBe('52:54:00:AA:BB:CC');
    expect(() => normalizeMac('01:00:5e:00:00:01')).toThrow(InvalidArgumentError);
    expect(() => normalizeMac('00:00:00:00:00:00')).toThrow(/zeros/);
    expect(() => normalizeMac('52-54-00-aa-bb-cc')).toThrow(InvalidArgumentError);
  });
});
