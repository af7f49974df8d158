/**
 * Sealed secrets: anyone holding the coordinators' public key can seal a value, only a holder of
 * the private key can open it. X25519 with a fresh ephemeral key per value, HKDF-SHA256, AES-256-GCM.
 * The secret's path is bound in as associated data, so a sealed value copied under another path
 * does not open. The CLI seals with the published public key and never needs the private one.
 */
import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { FailedPreconditionError, InvalidArgumentError } from '@phoenix/shared';

export const sealedSchema = z.strictObject({
  v: z.literal(1),
  /** Id of the recipient key (first 16 hex digits of the SHA-256 of its raw public key). */
  kid: z.string().regex(/^[0-9a-f]{16}$/),
  /** Ephemeral X25519 public key, raw, base64. */
  epk: z.string().min(1),
  iv: z.string().min(1),
  tag: z.string().min(1),
  ct: z.string(),
});
export type Sealed = z.infer<typeof sealedSchema>;

export interface RecipientKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
}

export interface SecretKeyPair extends RecipientKey {
  readonly privateKey: KeyObject;
}

const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

function rawPublic(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

function keyId(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

/** The recipient key from its raw base64 form (as published in the secrets bucket). */
export function recipientFromBase64(b64: string): RecipientKey {
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== 32) throw new InvalidArgumentError('publicKey', `${raw.length} bytes`, 'an X25519 public key is 32 bytes');
  const publicKey = createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  return { kid: keyId(raw), publicKey };
}

export function publicKeyBase64(key: RecipientKey): string {
  return rawPublic(key.publicKey).toString('base64');
}

/** A key pair from a PEM private key (PKCS#8 X25519), the content of the coordinators' key file. */
export function keyPairFromPem(pem: string, field: string): SecretKeyPair {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new InvalidArgumentError(field, '(key file)', 'not a PEM private key', { cause });
  }
  if (privateKey.asymmetricKeyType !== 'x25519') {
    throw new InvalidArgumentError(field, privateKey.asymmetricKeyType ?? 'unknown', 'the secrets key must be an X25519 private key');
  }
  const publicKey = createPublicKey(privateKey);
  return { kid: keyId(rawPublic(publicKey)), publicKey, privateKey };
}

/** A new key pair (also the one-time key of a reveal request). */
export function generateKeyPair(): SecretKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { kid: keyId(rawPublic(publicKey)), publicKey, privateKey };
}

/** A new key pair as PEM (what `phoenix secret keygen` writes). */
export function generateKeyPem(): string {
  return generateKeyPair().privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

function derive(shared: Buffer, epk: Buffer, recipient: Buffer, path: string): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([epk, recipient]), `phoenix-secret:${path}`, 32));
}

export function seal(recipient: RecipientKey, path: string, plaintext: string): Sealed {
  const eph = generateKeyPairSync('x25519');
  const epk = rawPublic(eph.publicKey);
  const key = derive(diffieHellman({ privateKey: eph.privateKey, publicKey: recipient.publicKey }), epk, rawPublic(recipient.publicKey), path);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(path, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { v: 1, kid: recipient.kid, epk: epk.toString('base64'), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') };
}

export function open(keys: SecretKeyPair, path: string, sealed: Sealed): string {
  if (sealed.kid !== keys.kid) {
    throw new FailedPreconditionError(`secret ${path} was sealed for key ${sealed.kid}, this coordinator holds key ${keys.kid}`);
  }
  const epk = Buffer.from(sealed.epk, 'base64');
  const peer = recipientFromBase64(sealed.epk).publicKey;
  const key = derive(diffieHellman({ privateKey: keys.privateKey, publicKey: peer }), epk, rawPublic(keys.publicKey), path);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(path, 'utf8'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString('utf8');
  } catch (cause) {
    // Never include the ciphertext or key material: the path is enough to act on.
    throw new FailedPreconditionError(`secret ${path} does not open with this coordinator's key (tampered, or stored under another path)`, { cause });
  }
}
