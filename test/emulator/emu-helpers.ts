import { createHash } from 'node:crypto';
import path from 'node:path';
import { execa } from 'execa';
import { startNodes, type EmulatedNode, type EmulatedNodes, type NodeOptions } from '../harness/index.js';

/**
 * Helpers for the emulator tests: they run the built executables (test/emulator/bin → test/dist),
 * so `npx tsc -b` must have run first (`npm test` builds).
 */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestNode extends EmulatedNode {
  run(tool: string, args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  spawn(tool: string, args: string[]): ReturnType<typeof spawnTool>;
}

export const TEMPLATE = 'debian-12-standard_12.7-1_amd64.tar.zst';
export const TEMPLATE_VOLID = `local:vztmpl/${TEMPLATE}`;

function spawnTool(file: string, args: string[], env: Record<string, string>) {
  return execa(file, args, { env, reject: false, stdin: 'ignore', stripFinalNewline: false });
}

function wrap(node: EmulatedNode): TestNode {
  const bin = (tool: string): string => path.join(node.binDir, tool);
  return {
    ...node,
    async run(tool, args, opts = {}) {
      const r = await execa(bin(tool), args, {
        env: node.env,
        reject: false,
        stripFinalNewline: false,
        ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
        timeout: opts.timeoutMs ?? 20_000,
      });
      return { code: r.exitCode ?? (r.signal ? 128 : -1), stdout: String(r.stdout), stderr: String(r.stderr) };
    },
    spawn(tool, args) {
      return spawnTool(bin(tool), args, node.env);
    },
  };
}

export async function emulatedNodes(opts: { nodes?: NodeOptions[]; timeScale?: number; count?: number } = {}): Promise<{ nodes: TestNode[]; handle: EmulatedNodes }> {
  const handle = await startNodes(opts);
  return { nodes: handle.nodes.map(wrap), handle };
}

export async function oneNode(opts: NodeOptions & { timeScale?: number } = {}): Promise<{ node: TestNode; handle: EmulatedNodes }> {
  const { timeScale, ...nodeOpts } = opts;
  const { nodes, handle } = await emulatedNodes({ nodes: [{ templates: [TEMPLATE], ...nodeOpts }], timeScale: timeScale ?? 0.005 });
  const node = nodes[0];
  if (!node) throw new Error('no node');
  return { node, handle };
}

/** Creates a stopped container from the seeded Debian template. */
export async function createCt(node: TestNode, vmid: number, extra: string[] = []): Promise<void> {
  const r = await node.run('pct', ['create', String(vmid), TEMPLATE_VOLID, '--rootfs', 'local-zfs:8', '--hostname', `ct${vmid}`, ...extra]);
  if (r.code !== 0) throw new Error(`pct create ${vmid} failed (${r.code}): ${r.stderr}`);
}

export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/** A well-formed ssh-ed25519 public key line (type, 32-byte key blob, comment), stable per comment. */
export function sshKey(comment: string): string {
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const pk = createHash('sha256').update(comment).digest();
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(pk)]).toString('base64')} ${comment}`;
}
