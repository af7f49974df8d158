import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { startNodes } from '../harness/index.js';

// test/harness: N emulated nodes with their own state, names and environment.
describe('startNodes', () => {
  it('starts distinct nodes with the requested hardware and storages, and tears them down', async () => {
    const h = await startNodes({
      nodes: [
        { name: 'alpha', cpus: 8, memoryMb: 32768, gpus: 2, templates: ['debian-12-standard_12.7-1_amd64.tar.zst'] },
        { cpus: 4, extraStorages: [{ id: 'bulk', type: 'dir', path: 'bulk', content: ['backup'] }] },
      ],
      timeScale: 0.01,
    });
    try {
      expect(h.nodes.map((n) => n.name)).toEqual(['alpha', 'pve2']);
      const [a, b] = h.nodes;
      if (!a || !b) throw new Error('nodes missing');
      expect(a.stateDir).not.toBe(b.stateDir);
      expect(a.env).toEqual({
        PATH: `${a.binDir}${path.delimiter}${process.env['PATH'] ?? ''}`,
        PVE_EMU_STATE: a.stateDir,
        PVE_EMU_NODE: 'alpha',
        PVE_EMU_TIME_SCALE: '0.01',
      });
      // The executables are found through PATH, as an agent would find them.
      const st = await execa('pvesh', ['get', '/nodes/alpha/status', '--output-format', 'json'], { env: a.env, extendEnv: false });
      expect(JSON.parse(st.stdout)).toMatchObject({ cpuinfo: { cpus: 8 }, memory: { total: 32768 * 1024 * 1024 } });
      const other = await execa('pvesh', ['get', '/nodes/alpha/status'], { env: b.env, extendEnv: false, reject: false });
      expect(other.exitCode).toBe(255);
      expect((await execa('pvesm', ['status'], { env: b.env, extendEnv: false })).stdout).toMatch(/^bulk +dir +active /m);
      expect(fs.existsSync(path.join(b.stateDir, 'bulk'))).toBe(true);
      expect((await execa('pveam', ['list', 'local'], { env: a.env, extendEnv: false })).stdout).toContain('local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst');
      const gpus = JSON.parse(fs.readFileSync(path.join(a.stateDir, 'gpus.json'), 'utf8')) as { gpus: unknown[] };
      expect(gpus.gpus).toHaveLength(2);
      expect(fs.existsSync(path.join(b.stateDir, 'gpus.json'))).toBe(false);
      const smi = await execa('nvidia-smi', ['-L'], { env: a.env, extendEnv: false, reject: false });
      expect(smi.stdout.split('\n').filter((l) => l.startsWith('GPU '))).toHaveLength(2);
    } finally {
      await h.teardown();
    }
    expect(fs.existsSync(h.dir)).toBe(false);
  });

  it('rejects duplicate node names', async () => {
    await expect(startNodes({ nodes: [{ name: 'x' }, { name: 'x' }] })).rejects.toThrow("duplicate node name 'x'");
  });
});

describe('data files', () => {
  it('ships the PVE 9.1 API schemas of every endpoint the argument checks use, from one pve-docs commit', () => {
    const read = (f: string) =>
      JSON.parse(fs.readFileSync(fileURLToPath(new URL(`./data/${f}`, import.meta.url)), 'utf8')) as {
        _source: { repo: string; commit: string; pve_docs_version: string };
        endpoints: Record<string, unknown>;
      };
    const params = read('api-params.json');
    const other = read('api-other-endpoints.json');
    for (const kind of ['lxc', 'qemu']) {
      for (const ep of [`POST /nodes/{node}/${kind}`, `POST /nodes/{node}/${kind}/{vmid}/clone`, `PUT /nodes/{node}/${kind}/{vmid}/config`]) {
        expect(params.endpoints, ep).toHaveProperty([ep]);
      }
    }
    expect(params._source).toMatchObject({ repo: 'proxmox/pve-docs', pve_docs_version: '9.1.3' });
    expect(other._source.commit).toBe(params._source.commit);
    expect(Object.keys(other.endpoints).length).toBeGreaterThan(20);
  });
});
