import { die } from './errors.js';

/**
 * PVE::Tools::validate_ssh_public_keys: every non-blank line must be a public key that
 * `ssh-keygen -l` accepts. The key blob is parsed as OpenSSH's sshkey_from_blob does (the type
 * inside the blob matches the one in front of it, field sizes, no trailing bytes), so a truncated
 * or made-up key fails here as it does on a node.
 */
export function validateSshPublicKeys(raw: string): void {
  for (const line of raw.split('\n')) {
    if (/^\s*$/.test(line)) continue;
    if (!isPublicKeyLine(line)) die('SSH public key validation error');
  }
}

const KEY_TYPES = /(?:^|\s)((?:ssh-(?:rsa|dss|ed25519))|(?:ecdsa-sha2-nistp(?:256|384|521))|(?:sk-ssh-ed25519@openssh\.com)|(?:sk-ecdsa-sha2-nistp256@openssh\.com))\s+([A-Za-z0-9+/]+={0,2})(?:\s|$)/;

export function isPublicKeyLine(line: string): boolean {
  const m = KEY_TYPES.exec(line);
  if (!m) return false;
  const type = m[1] ?? '';
  const blob = Buffer.from(m[2] ?? '', 'base64');
  try {
    const r = new BlobReader(blob);
    if (r.string().toString('latin1') !== type) return false;
    if (type === 'ssh-ed25519' || type === 'sk-ssh-ed25519@openssh.com') {
      if (r.string().length !== 32) return false;
    } else if (type === 'ssh-rsa') {
      r.mpint();
      if (bitLength(r.mpint()) < 1024) return false;
    } else if (type === 'ssh-dss') {
      for (let i = 0; i < 4; i++) r.mpint();
    } else {
      const curve = r.string().toString('latin1');
      if (!type.includes(curve)) return false;
      const point = r.string();
      const size = { nistp256: 65, nistp384: 97, nistp521: 133 }[curve];
      if (point.length !== size || point[0] !== 4) return false;
    }
    if (type.startsWith('sk-')) r.string();
    return r.done();
  } catch {
    return false;
  }
}

function bitLength(n: Buffer): number {
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  if (i === n.length) return 0;
  return (n.length - i - 1) * 8 + Math.floor(Math.log2(n[i] ?? 1)) + 1;
}

class BlobReader {
  private off = 0;
  constructor(private readonly buf: Buffer) {}
  string(): Buffer {
    if (this.off + 4 > this.buf.length) throw new Error('short blob');
    const len = this.buf.readUInt32BE(this.off);
    this.off += 4;
    if (this.off + len > this.buf.length) throw new Error('short blob');
    const s = this.buf.subarray(this.off, this.off + len);
    this.off += len;
    return s;
  }
  mpint(): Buffer {
    return this.string();
  }
  done(): boolean {
    return this.off === this.buf.length;
  }
}
