/** Builds the coordinator's secret store from its config: the sealed-KV key, Vault, files. */
import { readFile } from 'node:fs/promises';
import type { StateStore } from '../state/index.js';
import { FileSecretBackend } from './file-backend.js';
import { KvSecretBackend, publishRecipient } from './kv-backend.js';
import { keyPairFromPem } from './sealed.js';
import { SecretStore } from './secret-store.js';
import type { SecretBackend } from './types.js';
import { VaultSecretBackend } from './vault-backend.js';

export interface SecretsSettings {
  keyFile: string | undefined;
  vault: { address: string; tokenFile: string; caFile: string | undefined; namespace: string | undefined } | undefined;
  output: 'kv' | 'vault';
}

export async function openSecretStore(settings: SecretsSettings, state: StateStore): Promise<SecretStore> {
  const backends: SecretBackend[] = [new FileSecretBackend()];
  if (settings.keyFile !== undefined) {
    const keys = keyPairFromPem(await readFile(settings.keyFile, 'utf8'), 'secrets.keyFile');
    await publishRecipient(state, keys);
    backends.push(new KvSecretBackend(state, keys));
  }
  if (settings.vault !== undefined) {
    const v = settings.vault;
    backends.push(
      new VaultSecretBackend({ address: v.address, tokenFile: v.tokenFile, ...(v.caFile ? { caFile: v.caFile } : {}), ...(v.namespace ? { namespace: v.namespace } : {}) }),
    );
  }
  // Without its output store the coordinator still runs; storing credentials then fails naming the missing setting.
  return new SecretStore(backends, settings.output);
}
