import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeScale } from './src/index.js';
import type { EmulatedNodes } from '../harness/index.js';
import { createCt, oneNode, type TestNode } from './emu-helpers.js';

// pvesh get on the paths Phoenix reads (docs/reference/proxmox-cli.md §4).
let node: TestNode;
let handle: EmulatedNodes;

beforeAll(async () => {
  ({ node, handle } = await oneNode({ cpus: 24, memoryMb: 131072 }));
  await createCt(node, 100, ['--memory', '1024', '--storage', 'local-zfs']);
});
afterAll(async () => handle.teardown());

describe('pvesh get', () => {
  it('returns the next free VMID as a quoted string in JSON', async () => {
    expect(await node.run('pvesh', ['get', '/cluster/nextid', '--output-format', 'json'])).toMatchObject({ code: 0, stdout: '"101"\n' });
    expect((await node.run('pvesh', ['get', '/cluster/nextid'])).stdout).toBe('101\n');
    expect(await node.run('pvesh', ['get', '/cluster/nextid', '--vmid', '100'])).toMatchObject({
      code: 255,
      stderr: '400 Parameter verification failed.\nvmid: VM 100 already exists\npvesh get <api_path> [OPTIONS] [FORMAT_OPTIONS]\n',
    });
  });

  it('lists the node network, filtered by type, and rejects unknown types', async () => {
    const bridges = JSON.parse((await node.run('pvesh', ['get', `/nodes/${node.name}/network`, '--type', 'any_bridge', '--output-format', 'json'])).stdout) as { iface: string; type: string }[];
    expect(bridges.map((b) => [b.iface, b.type])).toEqual([['vmbr0', 'bridge']]);
    const all = JSON.parse((await node.run('pvesh', ['get', `/nodes/${node.name}/network`, '--output-format', 'json'])).stdout) as { iface: string }[];
    expect(all.map((b) => b.iface).sort()).toEqual(['eno1', 'vmbr0']);
    const bad = await node.run('pvesh', ['get', `/nodes/${node.name}/network`, '--type', 'wifi']);
    expect(bad.code).toBe(255);
    expect(bad.stderr).toContain("type: value 'wifi' does not have a value in the enumeration");
  });

  it('reads one storage definition, and fails for a missing one', async () => {
    const zfs = JSON.parse((await node.run('pvesh', ['get', '/storage/local-zfs', '--output-format', 'json'])).stdout) as Record<string, unknown>;
    expect(zfs).toMatchObject({ storage: 'local-zfs', type: 'zfspool', pool: 'rpool/data', content: 'images,rootdir' });
    const missing = await node.run('pvesh', ['get', '/storage/nope']);
    expect(missing.code).toBe(255);
    expect(missing.stderr).toContain("storage 'nope' does not exist");
  });

  it('fails with exit 1 for paths without a handler', async () => {
    expect(await node.run('pvesh', ['get', '/nodes/pve/frobnicate'])).toMatchObject({ code: 1, stderr: "No 'get' handler defined for '/nodes/pve/frobnicate'\n" });
  });

  it('describes the node (cpuinfo, memory in bytes, load average as strings)', async () => {
    const r = await node.run('pvesh', ['get', `/nodes/${node.name}/status`, '--output-format', 'json']);
    const s = JSON.parse(r.stdout) as Record<string, never>;
    expect(s['cpuinfo']).toMatchObject({ cpus: 24 });
    expect(s['memory']).toMatchObject({ total: 131072 * 1024 * 1024 });
    expect(s['loadavg']).toEqual(['0.12', '0.09', '0.05']);
    expect(typeof (s['cpuinfo'] as unknown as Record<string, unknown>)['mhz']).toBe('string');
    // canonical JSON: keys sorted, one line
    expect(r.stdout.split('\n')).toHaveLength(2);
    expect(Object.keys(s)).toEqual([...Object.keys(s)].sort());
    expect((await node.run('pvesh', ['get', '/nodes/localhost/status', '--output-format', 'json'])).code).toBe(0);
  });

  it('lists containers and their current status', async () => {
    const list = JSON.parse((await node.run('pvesh', ['get', `/nodes/${node.name}/lxc`, '--output-format', 'json'])).stdout) as Array<Record<string, unknown>>;
    expect(list).toEqual([expect.objectContaining({ vmid: 100, type: 'lxc', status: 'stopped', name: 'ct100', maxmem: 1024 * 1024 * 1024, maxdisk: 8 * 1024 ** 3 })]);
    const cur = JSON.parse((await node.run('pvesh', ['get', `/nodes/${node.name}/lxc/100/status/current`, '--output-format', 'json'])).stdout) as Record<string, unknown>;
    expect(cur).toMatchObject({ vmid: 100, status: 'stopped', ha: { managed: 0 } });
    const missing = await node.run('pvesh', ['get', `/nodes/${node.name}/lxc/999/status/current`]);
    expect(missing).toMatchObject({ code: 2, stderr: `Configuration file 'nodes/${node.name}/lxc/999.conf' does not exist\n` });
  });

  it('pretty-prints JSON with three-space indents', async () => {
    const r = await node.run('pvesh', ['get', `/nodes/${node.name}/storage`, '--output-format', 'json-pretty']);
    expect(r.stdout.startsWith('[\n   {\n      "active" : 1,\n')).toBe(true);
  });

  it('shows guest status in /cluster/resources only after pvestatd sampled it', async () => {
    setTimeScale(node.stateDir, 1); // pvestatd samples every 10 s
    const first = JSON.parse((await node.run('pvesh', ['get', '/cluster/resources', '--type', 'vm', '--output-format', 'json'])).stdout) as Array<Record<string, unknown>>;
    expect(first).toEqual([expect.objectContaining({ id: 'lxc/100', vmid: 100, type: 'lxc', status: 'stopped', node: node.name })]);
    // A guest that appeared since the last sample has only its base fields and status "unknown".
    fs.copyFileSync(path.join(node.stateDir, 'lxc/100.conf'), path.join(node.stateDir, 'lxc/150.conf'));
    const res = JSON.parse((await node.run('pvesh', ['get', '/cluster/resources', '--output-format', 'json'])).stdout) as Array<Record<string, unknown>>;
    expect(res.find((e) => e['id'] === 'lxc/150')).toEqual({ id: 'lxc/150', vmid: 150, node: node.name, type: 'lxc', status: 'unknown' });
    expect(res.find((e) => e['type'] === 'node')).toMatchObject({ id: `node/${node.name}`, status: 'online', maxcpu: 24 });
    expect(res.find((e) => e['id'] === `storage/${node.name}/local-zfs`)).toMatchObject({ plugintype: 'zfspool', status: 'available' });
    setTimeScale(node.stateDir, 0.005);
  });

  it('leaves disabled storages out of /cluster/resources, and sizes in only for active ones', async () => {
    await node.run('pvesm', ['set', 'local', '--disable', '1']);
    try {
      const res = JSON.parse((await node.run('pvesh', ['get', '/cluster/resources', '--type', 'storage', '--output-format', 'json'])).stdout) as Array<Record<string, unknown>>;
      expect(res.map((e) => e['storage'])).toEqual(['local-zfs']);
      expect(res[0]).toMatchObject({ status: 'available', maxdisk: expect.any(Number), disk: expect.any(Number) });
    } finally {
      await node.run('pvesm', ['set', 'local', '--disable', '0']);
    }
  });

  it('prints text tables by default', async () => {
    const r = await node.run('pvesh', ['get', `/nodes/${node.name}/lxc`, '--noborder']);
    const l = r.stdout.split('\n');
    expect(l[0]).toMatch(/^status +vmid +cpu +cpus +disk/);
  });
});
