/**
 * Issues the cluster CA and certificates with the system `openssl` (present on every Proxmox node),
 * called with argument arrays only. Used by `phoenix certs`, the demo and the tests.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile, chmod, access } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { CommandFailedError } from './errors.js';
import { parseOrThrow } from './validators.js';
import type { Role, TlsPaths } from './tls.js';

const run = promisify(execFile);

export interface IssueOptions {
  /** Directory holding ca.pem and ca.key. */
  dir: string;
  role: Role;
  /** CN, and the file name stem. */
  name: string;
  /** DNS names and IPs for the SAN (servers). */
  hosts?: string[];
  days?: number;
}

const certNameSchema = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/, 'certificate name: letters, digits, . _ -');
const hostSchema = z.string().regex(/^[a-zA-Z0-9.:-]{1,253}$/, 'host must be a DNS name or IP address');

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new CommandFailedError(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Creates ca.pem/ca.key in `dir` unless they exist. Returns the CA certificate path. */
export async function ensureCa(dir: string, commonName = 'Phoenix cluster CA'): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caCert = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  if (await exists(caCert)) return caCert;
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKey]);
  await chmod(caKey, 0o600);
  await openssl([
    'req', '-x509', '-new', '-key', caKey, '-sha256', '-days', '3650', '-out', caCert,
    '-subj', `/O=Phoenix/CN=${commonName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return caCert;
}

/** Issues `<name>.pem`/`<name>.key` signed by the CA in `dir`, with the role in OU. */
export async function issueCertificate(options: IssueOptions): Promise<TlsPaths> {
  const name = parseOrThrow(certNameSchema, options.name, 'name');
  const hosts = (options.hosts ?? []).map((h, i) => parseOrThrow(hostSchema, h, `hosts[${i}]`));
  const ca = await ensureCa(options.dir);
  const caKey = join(options.dir, 'ca.key');
  const key = join(options.dir, `${name}.key`);
  const csr = join(options.dir, `${name}.csr`);
  const cert = join(options.dir, `${name}.pem`);
  const ext = join(options.dir, `${name}.ext`);
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  await chmod(key, 0o600);
  await openssl(['req', '-new', '-key', key, '-out', csr, '-subj', `/O=Phoenix/OU=${options.role}/CN=${name}`]);
  const san = hosts.map((h) => (/^[0-9.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`));
  const lines = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth,clientAuth',
  ];
  if (san.length > 0) lines.push(`subjectAltName=${san.join(',')}`);
  await writeFile(ext, `${lines.join('\n')}\n`);
  await openssl([
    'x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert,
    '-days', String(options.days ?? 825), '-sha256', '-extfile', ext,
  ]);
  return { ca, cert, key };
}
