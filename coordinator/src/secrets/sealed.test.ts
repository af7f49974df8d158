import { describe, expect, it } from 'vitest';
import { FailedPreconditionError } from '@phoenix/shared';
import { generateKeyPem, keyPairFromPem, open, publicKeyBase64, recipientFromBase64, seal } from './sealed.js';
import { kvV2Paths } from './vault-backend.js';
import { pickField } from './secret-store.js';

describe('sealed secrets', () => {
  const keys = keyPairFromPem(generateKeyPem(), 'secrets.keyFile');

  it('opens what was sealed with the published public key only', () => {
    const recipient = recipientFromBase64(publicKeyBase64(keys));
    expect(recipient.kid).toBe(keys.kid);
    const sealed = seal(recipient, 'openshift/lab', 'kubeadmin-password-value');
    expect(JSON.stringify(sealed)).not.toContain('kubeadmin-password-value');
    expect(open(keys, 'openshift/lab', sealed)).toBe('kubeadmin-password-value');
  });

  it('seals the same value differently each time', () => {
    const a = seal(keys, 'p', 'same');
    const b = seal(keys, 'p', 'same');
    expect(a.ct).not.toBe(b.ct);
    expect(a.epk).not.toBe(b.epk);
  });

  it('refuses a value moved to another path, a tampered one, and one sealed for another key', () => {
    const sealed = seal(keys, 'openshift/a', 'secret-a');
    expect(() => open(keys, 'openshift/b', sealed)).toThrow(/does not open/);
    const flipped = Buffer.from(sealed.ct, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => open(keys, 'openshift/a', { ...sealed, ct: flipped.toString('base64') })).toThrow(FailedPreconditionError);
    const other = keyPairFromPem(generateKeyPem(), 'k');
    expect(() => open(other, 'openshift/a', sealed)).toThrow(new RegExp(`sealed for key ${keys.kid}`));
  });

  it('rejects a key file that is not an X25519 private key, without echoing it', () => {
    expect(() => keyPairFromPem('not a key', 'secrets.keyFile')).toThrow(/secrets.keyFile.*not a PEM private key/);
  });
});

describe('Vault KV v2 paths', () => {
  it('maps ProxShift-style and short paths to data and metadata endpoints', () => {
    expect(kvV2Paths('secrets/data/openshift/lab')).toEqual({ data: 'secrets/data/openshift/lab', metadata: 'secrets/metadata/openshift/lab' });
    expect(kvV2Paths('secret/openshift/lab')).toEqual({ data: 'secret/data/openshift/lab', metadata: 'secret/metadata/openshift/lab' });
    expect(() => kvV2Paths('secrets')).toThrow(/<mount>\/<name>/);
    expect(() => kvV2Paths('secrets/../sys')).toThrow(/path/);
  });
});

describe('pickField', () => {
  const ref = { store: 'vault' as const, path: 'secrets/data/x' };
  it('takes the named field, else value, else the only field', () => {
    expect(pickField({ a: '1', b: '2' }, { ...ref, key: 'b' })).toBe('2');
    expect(pickField({ value: 'v', other: 'o' }, ref)).toBe('v');
    expect(pickField({ secret: 's' }, ref)).toBe('s');
    expect(() => pickField({ a: '1', b: '2' }, ref)).toThrow(/fields a, b: name one with key/);
    expect(() => pickField({ a: '1' }, { ...ref, key: 'z' })).toThrow(/no field z/);
  });
});
