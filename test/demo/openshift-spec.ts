/**
 * OpenShift clusters sized for the demo's three nodes: a single-node cluster, a compact one and a
 * 3+2 multi-node one, and one whose control planes cannot fit anywhere (to be refused). Pull
 * secret and SSH key are references; `putOpenShiftSecrets` stores throwaway values for them.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import type { DemoCluster } from './cluster.js';

export type DemoOpenShift = 'sno' | 'compact' | 'ha' | 'too-big';

const refs = { pullSecret: { store: 'kv', path: 'openshift/pull-secret' }, sshKey: { store: 'kv', path: 'openshift/ssh-key' } };
const cp = { cores: 8, memoryMiB: 16_384, diskGiB: 120, storage: 'quickOS-vm-disks' };

function cluster(kind: DemoOpenShift, index: number): Record<string, unknown> {
  const net = (n: number) => ({ machineCidr: `10.${20 + n}.0.0/24`, gateway: `10.${20 + n}.0.1`, nameservers: [`10.${20 + n}.0.2`] });
  const vips = (n: number) => ({ apiVip: `10.${20 + n}.0.5`, ingressVip: `10.${20 + n}.0.6` });
  const base = { baseDomain: 'lab.example.org', version: '4.19.1', ...refs };
  const nodes = (prefix: string, cps: number, workers = 0) => [
    ...Array.from({ length: cps }, (_, i) => ({ name: `${prefix}-cp${i}`, role: 'control-plane' })),
    ...Array.from({ length: workers }, (_, i) => ({ name: `${prefix}-w${i}`, role: 'worker' })),
  ];
  switch (kind) {
    case 'sno':
      return { name: 'sno', topology: 'sno', ...base, network: net(index), roles: { controlPlane: cp }, nodes: nodes('sno', 1) };
    case 'compact':
      return { name: 'compact', topology: 'compact', ...base, ...vips(index), network: net(index), roles: { controlPlane: cp }, nodes: nodes('compact', 3) };
    case 'ha':
      return {
        name: 'ha',
        topology: 'multi-node',
        ...base,
        ...vips(index),
        network: net(index),
        roles: { controlPlane: cp, worker: { cores: 2, memoryMiB: 8192, diskGiB: 100, storage: 'quickOS-vm-disks' } },
        nodes: nodes('ha', 3, 2),
      };
    case 'too-big':
      // 128 GiB control planes: the third node has 64 GiB, so three distinct nodes cannot be found.
      return { name: 'big', topology: 'compact', ...base, ...vips(index), network: net(index), roles: { controlPlane: { ...cp, memoryMiB: 131_072 } }, nodes: nodes('big', 3) };
  }
}

export function openshiftSpec(kinds: readonly DemoOpenShift[], clusterName = 'demo'): string {
  return stringify({
    version: 1,
    cluster: { name: clusterName },
    nodes: [{ name: 'pve1' }, { name: 'pve2' }, { name: 'pve3' }],
    openshift: kinds.map((k, i) => cluster(k, i)),
  });
}

export async function writeOpenShiftSpec(file: string, kinds: readonly DemoOpenShift[]): Promise<string> {
  await writeFile(file, openshiftSpec(kinds));
  return file;
}

/** A pull secret and SSH key of the right shape (never real ones). */
export const DEMO_PULL_SECRET = JSON.stringify({ auths: { 'cloud.openshift.com': { auth: Buffer.from('demo:not-a-real-token').toString('base64'), email: 'demo@example.org' } } });
export const DEMO_SSH_KEY = demoSshKey();

/** A fresh ed25519 public key in OpenSSH's format (the installer parses it). */
function demoSshKey(): string {
  const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]).toString('base64')} demo@phoenix`;
}

export async function putOpenShiftSecrets(c: DemoCluster): Promise<void> {
  for (const [path, value] of [['openshift/pull-secret', DEMO_PULL_SECRET], ['openshift/ssh-key', DEMO_SSH_KEY]] as const) {
    const file = `${c.dir}/${path.replace('/', '-')}.txt`;
    await writeFile(file, value, { mode: 0o600 });
    const r = await c.cli(['secret', 'put', path, '--from-file', file]);
    if (r.code !== 0) throw new Error(`secret put ${path} failed: ${r.stderr}`);
  }
}
