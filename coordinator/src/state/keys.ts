/**
 * KV key encoding. JetStream KV keys allow `A-Z a-z 0-9 - _ / = .`; the dot separates subject
 * tokens, which is what wildcard filters (`guest.>`) match on. Every identifier placed in a key is
 * encoded as one token: safe characters stay readable, anything else (including `.` and `=`)
 * becomes `=XX` per UTF-8 byte, so any string round-trips and can never split into two tokens.
 */
import { InvalidArgumentError } from '@phoenix/shared';

const SAFE_BYTE = /^[A-Za-z0-9_\-/]$/;
const ENCODED_TOKEN = /^(?:[A-Za-z0-9_\-/]|=[0-9A-F]{2})+$/;

/** Encodes one key token. Empty tokens are rejected: NATS subjects cannot hold them. */
export function encodeKeyToken(value: string): string {
  if (value.length === 0) throw new InvalidArgumentError('key token', value, 'must not be empty');
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && SAFE_BYTE.test(ch) ? ch : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Inverse of encodeKeyToken. */
export function decodeKeyToken(token: string): string {
  if (!ENCODED_TOKEN.test(token)) throw new InvalidArgumentError('key token', token, 'not an encoded key token');
  const bytes: number[] = [];
  for (let i = 0; i < token.length; ) {
    if (token[i] === '=') {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(token.charCodeAt(i));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Builds a key from raw parts, each encoded as one token: `kvKey('step', runId, stepId)`. */
export function kvKey(...parts: readonly (string | number)[]): string {
  if (parts.length === 0) throw new InvalidArgumentError('key', parts, 'needs at least one part');
  return parts.map((p) => encodeKeyToken(String(p))).join('.');
}

/** Splits a key built by kvKey back into its raw parts. */
export function parseKvKey(key: string): string[] {
  return key.split('.').map(decodeKeyToken);
}

/** A filter matching every key below the given parts: `kvPrefix('step', runId)` → `step.<run>.>`. */
export function kvPrefix(...parts: readonly (string | number)[]): string {
  return parts.length === 0 ? '>' : `${kvKey(...parts)}.>`;
}

/** True when `key` is acceptable to JetStream KV as it stands. */
export function isValidKvKey(key: string): boolean {
  return /^[-/=.\w]+$/.test(key) && !key.startsWith('.') && !key.endsWith('.') && !key.includes('..');
}
