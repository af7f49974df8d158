/**
 * ISO upload and removal through a real agent process over mTLS against an emulated node: the
 * volume appears to Proxmox only once complete and checked, a second upload sends nothing, a
 * wrong checksum leaves nothing behind, a storage without ISO content is refused with Proxmox's
 * text, and an interrupted upload resumes where it stopped.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TlsMaterial } from '@phoenix/shared';
import { AgentClient } from '../coordinator/src/agents/index.js';
import { mutatingCalls } from './emulator/src/index.js';
import { AgentProcess } from './harness/agent-process.js';
import { createTestPki, type TestPki } from './harness/certs.js';
import { startNodes, type EmulatedNode, type EmulatedNodes } from './harness/index.js';

const run = promisify(execFile);
let pki: TestPki;
let agent: AgentProcess;
let emulated: EmulatedNodes;
let node: EmulatedNode;
let client: AgentClient;
let iso: string;
let sha256: string;
const SIZE = 7 * 1024 * 1024 + 123; // three chunks

const isoDir = () => join(node.stateDir, 'storage', 'local', 'template', 'iso');
const listed = async (): Promise<string> => (await run(join(node.binDir, 'pvesm'), ['list', 'local', '--content', 'iso'], { env: node.env })).stdout;

beforeAll(async () => {
  pki = await createTestPki({ nodes: ['pve1'] });
  const tls: TlsMaterial = await pki.material(await pki.client('coordinator', 'coord-a'));
  emulated = await startNodes({ nodes: [{ name: 'pve1' }], timeScale: 0.01 });
  node = emulated.nodes[0]!;
  const toolEnv = Object.fromEntries(Object.entries(node.env).filter(([k]) => k.startsWith('PVE_EMU_')));
  agent = await AgentProcess.start({ node: 'pve1', cluster: 'lab', pki, tools: { binDir: node.binDir, env: toolEnv } });
  client = new AgentClient({ node: 'pve1', address: `127.0.0.1:${agent.grpcPort}` }, { tls, requester: 'coordinator/test' });
  const bytes = randomBytes(SIZE);
  sha256 = createHash('sha256').update(bytes).digest('hex');
  iso = join(node.stateDir, '..', 'upload.iso');
  await writeFile(iso, bytes);
}, 120_000);

afterAll(async () => {
  client?.close();
  await agent?.dispose();
  await pki?.dispose();
  await emulated?.teardown();
});

describe('ISO upload to a node', () => {
  it('refuses a storage without iso content and an unknown one, with Proxmox texts, writing nothing', async () => {
    await expect(client.uploadIso({ storage: 'local-zfs', file: 'agent.iso', path: iso, sha256 })).rejects.toThrow("storage 'local-zfs' does not support 'iso' content");
    await expect(client.uploadIso({ storage: 'nope', file: 'agent.iso', path: iso, sha256 })).rejects.toThrow("storage 'nope' does not exist");
    await expect(client.uploadIso({ storage: 'local', file: '../etc/passwd', path: iso, sha256 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a wrong checksum is refused at commit and leaves neither volume nor staged bytes', async () => {
    const wrong = 'f'.repeat(64);
    await expect(client.uploadIso({ storage: 'local', file: 'agent.iso', path: iso, sha256: wrong })).rejects.toThrow(/sha256/);
    expect(existsSync(isoDir()) ? readdirSync(isoDir()) : []).toEqual([]);
  });

  it('uploads in chunks; Proxmox lists the volume; a second upload sends nothing and changes nothing', async () => {
    expect(await client.uploadIso({ storage: 'local', file: 'agent.iso', path: iso, sha256 })).toEqual({ changed: true });
    expect(readdirSync(isoDir())).toEqual(['agent.iso']);
    const hash = createHash('sha256');
    hash.update((await import('node:fs')).readFileSync(join(isoDir(), 'agent.iso')));
    expect(hash.digest('hex')).toBe(sha256);
    expect(await listed()).toContain('local:iso/agent.iso');
    const before = mutatingCalls(node.stateDir).length;
    expect(await client.uploadIso({ storage: 'local', file: 'agent.iso', path: iso, sha256 })).toEqual({ changed: false });
    expect(mutatingCalls(node.stateDir).length).toBe(before);
  });

  it('resumes a staged upload where it stopped', async () => {
    // Stage the first 4 MiB the way an interrupted upload leaves them.
    const bytes = (await import('node:fs')).readFileSync(iso);
    const part = join(isoDir(), `.second.iso.${sha256.slice(0, 16)}.part`);
    await writeFile(part, bytes.subarray(0, 4 * 1024 * 1024));
    expect(await client.uploadIso({ storage: 'local', file: 'second.iso', path: iso, sha256 })).toEqual({ changed: true });
    expect(readdirSync(isoDir()).sort()).toEqual(['agent.iso', 'second.iso']);
  });

  it('delete removes the volume through pvesm free; a second delete changes nothing', async () => {
    expect(await client.deleteIso({ storage: 'local', file: 'agent.iso' })).toEqual({ changed: true });
    expect(await listed()).not.toContain('local:iso/agent.iso');
    expect(mutatingCalls(node.stateDir).some((c) => c.tool === 'pvesm' && c.argv[0] === 'free')).toBe(true);
    expect(await client.deleteIso({ storage: 'local', file: 'agent.iso' })).toEqual({ changed: false });
  });
});
