/** Where Phoenix keeps a cluster's credentials, and what never leaves the install directory. */
import type { SecretStoreName } from '../secrets/index.js';

/**
 * Path of a cluster's credentials (fields api, kubeconfig, kubeadmin, console): ProxShift's
 * Vault layout (`secrets/data/openshift/<cluster>`) in Vault, `openshift/<cluster>` in KV.
 */
export function credentialsPath(store: SecretStoreName, cluster: string): string {
  return store === 'vault' ? `secrets/openshift/${cluster}` : `openshift/${cluster}`;
}

const PASSWORD_LINE = /password/i;

/**
 * A console line as it may be shown: the installer prints the kubeadmin password at the end of
 * install-complete, and known secret values (pull secret, SSH key) could be echoed in errors.
 */
export function redactLine(message: string, cluster: string, secrets: readonly string[]): string {
  if (PASSWORD_LINE.test(message)) {
    return /kubeadmin/.test(message)
      ? `Login to the console as "kubeadmin" (password: phoenix openshift kubeadmin-password ${cluster})`
      : '[line withheld: it names a password]';
  }
  let out = message;
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join('[redacted]');
  return out;
}
