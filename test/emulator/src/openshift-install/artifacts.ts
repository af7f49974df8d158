import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../core/atomic-file.js';
import { clusterDomain, type InstallState } from './install-state.js';

/** The files `agent create image` writes next to the state file. */
export const ISO_NAME = 'agent.x86_64.iso';
const ISO_MAGIC = 'EMULATED OPENSHIFT AGENT ISO';

/** Stand-in for the agent ISO: small, naming the cluster and the install it belongs to. */
export function isoContent(s: Pick<InstallState, 'installId' | 'clusterName' | 'baseDomain'>): string {
  return `${ISO_MAGIC}\ninstall-id: ${s.installId}\ncluster: ${clusterDomain(s)}\n`;
}

/** The install id of an emulated agent ISO, or undefined for any other file. */
export function isoInstallId(content: string): string | undefined {
  if (!content.startsWith(`${ISO_MAGIC}\n`)) return undefined;
  return /^install-id: (\S+)$/m.exec(content)?.[1];
}

/** Reads at most the head of a file (an ISO in storage may be large). */
export function readHead(file: string, bytes = 4096): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(bytes);
    const n = fs.readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('latin1');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** A PEM block of random bytes: looks like a certificate or key, decodes to nothing. */
function fakePem(label: string, bytes: number): string {
  const body = randomBytes(bytes).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export function kubeconfig(s: Pick<InstallState, 'clusterName' | 'baseDomain'>): string {
  const name = s.clusterName;
  return stringify({
    clusters: [{ cluster: { 'certificate-authority-data': b64(fakePem('CERTIFICATE', 800)), server: `https://api.${clusterDomain(s)}:6443` }, name }],
    contexts: [{ context: { cluster: name, user: 'admin' }, name: 'admin' }],
    'current-context': 'admin',
    preferences: {},
    users: [{ name: 'admin', user: { 'client-certificate-data': b64(fakePem('CERTIFICATE', 900)), 'client-key-data': b64(fakePem('RSA PRIVATE KEY', 1190)) } }],
  });
}

const PASSWORD_CHARS = '23456789abcdefghijkmnopqrstuvwxyzABCDEFGHIJKLMNPQRSTUVWXYZ';

/** kubeadmin password: 23 characters, four groups of five joined by dashes. */
export function kubeadminPassword(): string {
  const group = (): string => Array.from({ length: 5 }, () => PASSWORD_CHARS[randomInt(PASSWORD_CHARS.length)]).join('');
  return [group(), group(), group(), group()].join('-');
}

export function newIds(clusterName: string): { installId: string; infraId: string } {
  const suffix = Array.from({ length: 5 }, () => 'bcdfghjklmnpqrstvwxz2456789'[randomInt(27)]).join('');
  return { installId: randomUUID(), infraId: `${clusterName.slice(0, 21)}-${suffix}` };
}

export function writeArtifacts(dir: string, s: InstallState): void {
  writeFileAtomic(path.join(dir, ISO_NAME), isoContent(s));
  fs.mkdirSync(path.join(dir, 'auth'), { recursive: true });
  writeFileAtomic(path.join(dir, 'auth', 'kubeconfig'), kubeconfig(s));
  writeFileAtomic(path.join(dir, 'auth', 'kubeadmin-password'), kubeadminPassword());
  writeFileAtomic(path.join(dir, 'rendezvousIP'), s.rendezvousIP);
}
