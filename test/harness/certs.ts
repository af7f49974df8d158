/**
 * A throw-away cluster PKI for tests: one CA (shared's ensureCa/issueCertificate, openssl), a
 * server certificate per node (SAN: node name, localhost, 127.0.0.1) and client certificates by
 * role. Keys stay in a 0700 temp directory.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCa, issueCertificate, type Role, type TlsMaterial, type TlsPaths } from '@phoenix/shared';

export interface TestPki {
  readonly dir: string;
  readonly caPath: string;
  /** Server certificate of a node (role agent). */
  node(name: string): TlsPaths;
  /** A client certificate issued on first use. */
  client(role: Role, name: string): Promise<TlsPaths>;
  material(paths: TlsPaths): Promise<TlsMaterial>;
  dispose(): Promise<void>;
}

export async function createTestPki(options: { nodes: readonly string[] }): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'phoenix-pki-'));
  const caPath = await ensureCa(dir, 'Phoenix test CA');
  const nodes = new Map<string, TlsPaths>();
  for (const node of options.nodes) {
    nodes.set(node, await issueCertificate({ dir, role: 'agent', name: node, hosts: [node, 'localhost', '127.0.0.1'] }));
  }
  const clients = new Map<string, Promise<TlsPaths>>();
  return {
    dir,
    caPath,
    node(name) {
      const paths = nodes.get(name);
      if (!paths) throw new Error(`no certificate for node ${name}`);
      return paths;
    },
    client(role, name) {
      const id = `${role}/${name}`;
      let issued = clients.get(id);
      if (!issued) {
        issued = issueCertificate({ dir, role, name });
        clients.set(id, issued);
      }
      return issued;
    },
    async material(paths) {
      return { ca: await readFile(paths.ca), cert: await readFile(paths.cert), key: await readFile(paths.key) };
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
