/**
 * Secret stores against the real things they talk to: sealed values in a real nats-server's KV
 * (the CLI can write but not read; purge leaves no ciphertext in the history) and Vault's KV v2
 * HTTP API (the emulator), with token refusal and no value in any error.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { FailedPreconditionError, NotFoundError, PermissionDeniedError, buckets } from '@phoenix/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FileSecretBackend,
  KvSecretBackend,
  SecretStore,
  VaultSecretBackend,
  generateKeyPem,
  keyPairFromPem,
  publishRecipient,
  requestReveal,
  serveReveals,
} from '../coordinator/src/secrets/index.js';
import { createLogger } from '@phoenix/shared';
import { StateStore, kvKey } from '../coordinator/src/state/index.js';
import { startVaultEmulator, type VaultEmulator } from './emulator/src/vault/server.js';
import { startSecuredNats, type SecuredNatsServer } from './harness/nats.js';

const PULL = '{"auths":{"quay.io":{"auth":"c2VjcmV0LXB1bGw="}}}';

let server: SecuredNatsServer;
let nc: NatsConnection;
let store: StateStore;
let vault: VaultEmulator;
let dir: string;

beforeAll(async () => {
  server = await startSecuredNats({ cluster: 'lab', nodes: ['pve1'] });
  nc = await server.connectAs('coordinator', { name: 'secrets-test' });
  store = await StateStore.open(nc);
  vault = await startVaultEmulator({ tokens: ['s.good-token'] });
  dir = await mkdtemp(join(tmpdir(), 'phoenix-secrets-'));
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await server?.stop();
  await vault?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sealed secrets in NATS KV', () => {
  it('the CLI side writes with the published key; only the key holder reads; purge removes every revision', async () => {
    const keys = keyPairFromPem(generateKeyPem(), 'secrets.keyFile');
    await publishRecipient(store, keys);
    await publishRecipient(store, keys); // a restart with the same key is fine

    const cli = new KvSecretBackend(store);
    await cli.write('openshift/pull-secret', { value: PULL });
    await cli.write('openshift/pull-secret', { value: PULL }); // a second revision in the history
    await expect(cli.read('openshift/pull-secret')).rejects.toThrow(FailedPreconditionError);

    const raw = await store.kv(buckets.secrets).get(kvKey('secret', 'openshift/pull-secret'));
    expect(raw?.string()).not.toContain('c2VjcmV0LXB1bGw');

    const coordinator = new SecretStore([new KvSecretBackend(store, keys)], 'kv');
    await expect(coordinator.resolve({ store: 'kv', path: 'openshift/pull-secret' })).resolves.toBe(PULL);
    expect(await new KvSecretBackend(store, keys).list()).toContain('openshift/pull-secret');

    expect(await coordinator.remove('openshift/pull-secret')).toBe(true);
    await expect(coordinator.resolve({ store: 'kv', path: 'openshift/pull-secret' })).rejects.toThrow(NotFoundError);
    const history = await store.kv(buckets.secrets).history({ key: kvKey('secret', 'openshift/pull-secret') });
    const left: string[] = [];
    for await (const e of history) if (e.operation === 'PUT') left.push(e.string());
    expect(left).toEqual([]);
  });

  it('a node cannot reach the secrets bucket at all', async () => {
    const node = await server.connectAs('pve1', { name: 'node-probe' });
    try {
      await expect(StateStore.open(node)).rejects.toThrow();
    } finally {
      await node.close();
    }
  });

  it('a coordinator with a different key is refused at start, naming both key ids', async () => {
    const other = keyPairFromPem(generateKeyPem(), 'secrets.keyFile');
    await expect(publishRecipient(store, other)).rejects.toThrow(new RegExp(`holds key ${other.kid}`));
  });
});

describe('revealing a kubeconfig to the CLI', () => {
  it('crosses NATS sealed to the one-time key, and only for a cluster with stored credentials', async () => {
    const keys = keyPairFromPem(generateKeyPem(), 'secrets.keyFile');
    const secrets = new SecretStore([new KvSecretBackend(store, keys)], 'kv');
    await secrets.write('openshift/lab', { kubeconfig: 'apiVersion: v1\nclusters: [kubeconfig-body]', kubeadmin: 'kubeadmin-pass-xyz' });
    const seen: string[] = [];
    const spy = nc.subscribe('_INBOX.>', { callback: (_e, m) => void seen.push(m.string()) });
    const spy2 = nc.subscribe('phoenix.reveal.>', { callback: (_e, m) => void seen.push(m.string()) });
    const sub = serveReveals(nc, 'lab', secrets, (c) => Promise.resolve(c === 'lab' ? { store: 'kv' as const, path: 'openshift/lab' } : undefined), createLogger({ service: 'test', level: 'silent' }));
    try {
      const cli = await server.connectAs('coordinator', { name: 'cli' });
      try {
        await expect(requestReveal(cli, 'lab', 'lab', 'kubeadmin')).resolves.toBe('kubeadmin-pass-xyz');
        await expect(requestReveal(cli, 'lab', 'lab', 'kubeconfig')).resolves.toContain('kubeconfig-body');
        await expect(requestReveal(cli, 'lab', 'other', 'kubeconfig')).rejects.toThrow(NotFoundError);
      } finally {
        await cli.close();
      }
      await nc.flush();
      expect(seen.length).toBeGreaterThanOrEqual(4);
      expect(seen.join('\n')).not.toMatch(/kubeadmin-pass-xyz|kubeconfig-body/);
    } finally {
      sub.unsubscribe();
      spy.unsubscribe();
      spy2.unsubscribe();
    }
  });
});

describe('Vault KV v2', () => {
  it('writes, reads, and removes every version at ProxShift paths', async () => {
    const tokenFile = join(dir, 'vault-token');
    await writeFile(tokenFile, 's.good-token\n', { mode: 0o600 });
    const backend = new VaultSecretBackend({ address: vault.address, tokenFile });
    const secrets = new SecretStore([backend], 'vault');
    await secrets.write('secrets/data/openshift/lab', { api: 'https://api.lab.example.com:6443', kubeadmin: 'kube-pass-1' });
    await secrets.write('secrets/data/openshift/lab', { api: 'https://api.lab.example.com:6443', kubeadmin: 'kube-pass-2' });
    expect(vault.peek('secrets', 'openshift/lab')).toEqual({ api: 'https://api.lab.example.com:6443', kubeadmin: 'kube-pass-2' });
    await expect(secrets.resolve({ store: 'vault', path: 'secrets/data/openshift/lab', key: 'kubeadmin' })).resolves.toBe('kube-pass-2');
    expect(await secrets.remove('secrets/data/openshift/lab')).toBe(true);
    expect(vault.paths()).not.toContain('secrets/openshift/lab');
    await expect(secrets.resolve({ store: 'vault', path: 'secrets/data/openshift/lab' })).rejects.toThrow(/does not exist/);
  });

  it('a wrong token is PERMISSION_DENIED and the error carries neither token nor value', async () => {
    const tokenFile = join(dir, 'bad-token');
    await writeFile(tokenFile, 's.wrong-token', { mode: 0o600 });
    const backend = new VaultSecretBackend({ address: vault.address, tokenFile });
    const err = await backend.write('secrets/data/openshift/x', { kubeadmin: 'never-echoed' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(String((err as Error).message)).not.toMatch(/wrong-token|never-echoed/);
  });

  it('an unreachable Vault is UNAVAILABLE, not a crash', async () => {
    const tokenFile = join(dir, 'vault-token');
    const backend = new VaultSecretBackend({ address: 'http://127.0.0.1:9', tokenFile, timeoutMs: 2_000 });
    await expect(backend.read('secrets/data/x')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});

describe('file secrets', () => {
  it('reads a file as its value and refuses writes', async () => {
    const f = join(dir, 'pull.json');
    await writeFile(f, `${PULL}\n`);
    const secrets = new SecretStore([new FileSecretBackend()], 'kv');
    await expect(secrets.resolve({ store: 'file', path: f })).resolves.toBe(PULL);
    await expect(secrets.resolve({ store: 'kv', path: 'x' })).rejects.toThrow(/no kv secret store is configured/);
    await expect(new FileSecretBackend().write(f)).rejects.toThrow(/read-only/);
  });
});
