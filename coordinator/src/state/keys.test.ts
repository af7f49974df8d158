import { InvalidArgumentError } from '@phoenix/shared';
import { describe, expect, it } from 'vitest';
import { decodeKeyToken, encodeKeyToken, isValidKvKey, kvKey, kvPrefix, parseKvKey } from './keys.js';

describe('KV key encoding', () => {
  it('keeps safe identifiers readable', () => {
    expect(encodeKeyToken('ct-950_a')).toBe('ct-950_a');
    expect(kvKey('vmid', 950)).toBe('vmid.950');
    expect(kvKey('step', 'run-1', 'ct/950/create')).toBe('step.run-1.ct/950/create');
  });

  it('escapes dots, = and anything else so one identifier stays one token, and round-trips', () => {
    const odd = ['vllm-qwen2.5-7b-awq', 'a=b', 'ct:950 create', 'Zürich ✓', '.', '..', '=3D', '*', '>', 'x y'];
    for (const s of odd) {
      const token = encodeKeyToken(s);
      expect(token).not.toContain('.');
      expect(token).toMatch(/^[A-Za-z0-9_\-/=]+$/);
      expect(decodeKeyToken(token)).toBe(s);
    }
    expect(encodeKeyToken('vllm-qwen2.5')).toBe('vllm-qwen2=2E5');
    const key = kvKey('step', 'run.7', 'guest*:start');
    expect(isValidKvKey(key)).toBe(true);
    expect(key.split('.')).toHaveLength(3);
    expect(parseKvKey(key)).toEqual(['step', 'run.7', 'guest*:start']);
  });

  it('builds wildcard filters below a prefix', () => {
    expect(kvPrefix('step', 'run.7')).toBe('step.run=2E7.>');
    expect(kvPrefix()).toBe('>');
  });

  it('rejects empty tokens and malformed encodings', () => {
    expect(() => encodeKeyToken('')).toThrow(InvalidArgumentError);
    expect(() => kvKey()).toThrow(InvalidArgumentError);
    for (const bad of ['a.b', '=4', '=zz', 'a b', '']) expect(() => decodeKeyToken(bad), bad).toThrow(InvalidArgumentError);
  });

  it('tells valid KV keys from invalid ones', () => {
    expect(isValidKvKey('guest.web-1')).toBe(true);
    for (const bad of ['.a', 'a.', 'a..b', 'a b', 'a*', 'a>']) expect(isValidKvKey(bad), bad).toBe(false);
  });
});
