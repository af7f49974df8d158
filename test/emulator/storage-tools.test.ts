import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatedNodes } from '../harness/index.js';
import { oneNode, type TestNode } from './emu-helpers.js';

// pvesm, pveam, zfs and zpool (docs/reference/proxmox-cli.md §5-§7).
let node: TestNode;
let handle: EmulatedNodes;

beforeAll(async () => {
  ({ node, handle } = await oneNode({ templates: [], timeScale: 0.002 }));
});
afterAll(async () => handle.teardown());

describe('pveam', () => {
  it('lists the catalogue by section with the architecture column', async () => {
    const r = await node.run('pveam', ['available', '--section', 'system']);
    expect(r.code).toBe(0);
    const l = r.stdout.split('\n').filter(Boolean);
    expect(l).toContain(`system          ${'debian-12-standard_12.7-1_amd64.tar.zst'.padEnd(60)} amd64`);
    expect(l.every((x) => x.startsWith('system '))).toBe(true);
    expect([...l].sort()).toEqual(l);
  });

  it('downloads a template, lists it, and rejects unknown templates and storages', async () => {
    const r = await node.run('pveam', ['download', 'local', 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst']);
    expect(r.code).toBe(0);
    const dest = path.join(node.stateDir, 'storage/local/template/cache/ubuntu-24.04-standard_24.04-2_amd64.tar.zst');
    expect(r.stdout.split('\n')[0]).toBe(`downloading http://download.proxmox.com/images/system/ubuntu-24.04-standard_24.04-2_amd64.tar.zst to ${dest}`);
    expect(r.stdout).toContain('calculating checksum...OK, checksum verified\n');
    const again = await node.run('pveam', ['download', 'local', 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst']);
    expect(again.stdout).toContain('calculating checksum of existing file...OK, got correct file already, no need to download\n');
    expect((await node.run('pveam', ['list', 'local'])).stdout).toBe(
      `${'NAME'.padEnd(60)} SIZE  \n${'local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst'.padEnd(60)} 141.10MB\n`,
    );
    expect(await node.run('pveam', ['download', 'local', 'nope.tar.zst'])).toMatchObject({
      code: 255,
      stderr: '400 Parameter verification failed.\ntemplate: no such template\npveam download <storage> <template>\n',
    });
    expect(await node.run('pveam', ['download', 'local-zfs', 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst'])).toMatchObject({
      code: 255,
      stderr: "storage 'local-zfs' does not support templates\n",
    });
    expect(await node.run('pveam', ['list', 'local-zfs'])).toMatchObject({ code: 255, stderr: 'Storage does not support templates!\n' });
    expect(await node.run('pveam', ['list', 'nosuch'])).toMatchObject({ code: 255, stderr: "storage 'nosuch' does not exist\n" });
  });
});

describe('pvesm', () => {
  it('prints status in fixed columns sorted by name', async () => {
    const r = await node.run('pvesm', ['status']);
    const l = r.stdout.split('\n');
    expect(l[0]).toBe('Name             Type     Status     Total (KiB)      Used (KiB) Available (KiB)        %');
    const prefix = (name: string, type: string): string => `${name.padEnd(10)} ${type.padStart(10)} ${'active'.padStart(10)} `;
    expect(l[1]?.startsWith(prefix('local', 'dir'))).toBe(true);
    expect(l[2]?.startsWith(prefix('local-zfs', 'zfspool'))).toBe(true);
    for (const row of [l[1], l[2]]) expect(row?.slice(33)).toMatch(/^ {0,14}\d+ {1,15}\d+ {1,15}\d+ {2,8}\d+\.\d\d%$/);
  });

  it('adds, changes, disables and removes storages', async () => {
    expect((await node.run('zpool', ['create', 'tank', '/dev/sdb'])).code).toBe(0);
    expect((await node.run('zfs', ['create', 'tank/vmdata'])).code).toBe(0);
    expect(await node.run('pvesm', ['add', 'zfspool', 'tank-vm', '-pool', 'tank/vmdata', '-content', 'images,rootdir'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await node.run('pvesm', ['add', 'zfspool', 'tank-vm', '-pool', 'tank/vmdata'])).toMatchObject({ code: 255, stderr: "create storage failed: storage ID 'tank-vm' already defined\n" });
    expect(await node.run('pvesm', ['add', 'dir', 'nopath'])).toMatchObject({ code: 255, stderr: "missing value for required option 'path'\n" });
    expect(await node.run('pvesm', ['add', 'zfs-pool', 'x', '-pool', 'tank'])).toMatchObject({ code: 255 });
    expect((await node.run('pvesm', ['set', 'tank-vm', '--content', 'images', '--disable', '1'])).code).toBe(0);
    expect((await node.run('pvesm', ['status'])).stdout).toMatch(/^tank-vm +zfspool +disabled +0 +0 +0 +N\/A$/m);
    expect(await node.run('pvesm', ['alloc', 'tank-vm', '100', 'vm-100-disk-0', '1G'])).toMatchObject({ code: 255, stderr: "storage 'tank-vm' is disabled\n" });
    expect((await node.run('pvesm', ['set', 'tank-vm', '--delete', 'disable'])).code).toBe(0);
    expect(await node.run('pvesm', ['remove', 'nosuch'])).toMatchObject({ code: 255, stderr: "delete storage failed: storage 'nosuch' does not exist\n" });
  });

  it('allocates named volumes and lists storage content', async () => {
    expect(await node.run('pvesm', ['alloc', 'tank-vm', '99999', 'vm-99999-disk-shared', '4G', '--format', 'raw'])).toMatchObject({
      code: 0,
      stdout: "successfully created 'tank-vm:vm-99999-disk-shared'\n",
    });
    expect(await node.run('pvesm', ['alloc', 'tank-vm', '100', 'disk-x', '1G'])).toMatchObject({ code: 255, stderr: "illegal name 'disk-x' - should be 'vm-100-*'\n" });
    expect(await node.run('pvesm', ['alloc', 'tank-vm', '100', 'vm-100-disk-0', '1T'])).toMatchObject({
      code: 255,
      stderr: "400 Parameter verification failed.\nsize: value does not match the regex pattern\npvesm alloc <storage> <vmid> <filename> <size> [OPTIONS]\n",
    });
    expect((await node.run('pvesm', ['list', 'tank-vm'])).stdout).toBe(
      'Volid                        Format  Type            Size VMID\ntank-vm:vm-99999-disk-shared raw     images    4294967296 99999\n',
    );
    expect((await node.run('pvesm', ['free', 'tank-vm:vm-99999-disk-shared'])).code).toBe(0);
    expect((await node.run('pvesm', ['list', 'tank-vm'])).stdout).toBe('Volid Format  Type      Size VMID\n');
  });
});

describe('zfs and zpool', () => {
  it('lists datasets, parsable and tab separated, with snapshots on request', async () => {
    expect((await node.run('zfs', ['create', '-o', 'refquota=8G', 'tank/vmdata/subvol-1'])).code).toBe(0);
    expect((await node.run('zfs', ['snapshot', 'tank/vmdata/subvol-1@s1'])).code).toBe(0);
    const h = await node.run('zfs', ['list', '-H', '-p', '-o', 'name,refquota,mountpoint', '-r', 'tank/vmdata']);
    expect(h.stdout).toBe('tank/vmdata\t0\t/tank/vmdata\ntank/vmdata/subvol-1\t8589934592\t/tank/vmdata/subvol-1\n');
    const s = await node.run('zfs', ['list', '-H', '-t', 'snapshot', '-o', 'name', 'tank/vmdata/subvol-1']);
    expect(s.stdout).toBe('tank/vmdata/subvol-1@s1\n');
    const human = await node.run('zfs', ['list', 'tank']);
    expect(human.stdout).toMatch(/^NAME +USED +AVAIL +REFER +MOUNTPOINT\ntank +\S+ +\S+ +96K +\/tank\n$/);
  });

  it('reports missing datasets but still lists the valid ones (exit 1)', async () => {
    const r = await node.run('zfs', ['list', '-H', '-o', 'name', 'tank', 'tank/nope']);
    expect(r).toMatchObject({ code: 1, stdout: 'tank\n', stderr: "cannot open 'tank/nope': dataset does not exist\n" });
  });

  it('gets and sets properties', async () => {
    expect((await node.run('zfs', ['set', 'compression=zstd', 'tank/vmdata'])).code).toBe(0);
    const g = await node.run('zfs', ['get', '-H', '-o', 'value,source', 'compression', 'tank/vmdata/subvol-1']);
    expect(g.stdout).toBe('zstd\tinherited from tank/vmdata\n');
    expect(await node.run('zfs', ['set', 'colour=red', 'tank'])).toMatchObject({ code: 1, stderr: "cannot set property for 'tank': invalid property 'colour'\n" });
  });

  it('refuses to destroy datasets with children, rolls back only the newest snapshot', async () => {
    expect((await node.run('zfs', ['snapshot', 'tank/vmdata/subvol-1@s2'])).code).toBe(0);
    expect(await node.run('zfs', ['rollback', 'tank/vmdata/subvol-1@s1'])).toMatchObject({
      code: 1,
      stderr: "cannot rollback to 'tank/vmdata/subvol-1@s1': more recent snapshots or bookmarks exist\nuse '-r' to force deletion of the following snapshots and bookmarks:\ntank/vmdata/subvol-1@s2\n",
    });
    expect((await node.run('zfs', ['clone', 'tank/vmdata/subvol-1@s2', 'tank/vmdata/clone-1'])).code).toBe(0);
    expect(await node.run('zfs', ['destroy', 'tank/vmdata/subvol-1@s2'])).toMatchObject({
      code: 1,
      stderr: "cannot destroy 'tank/vmdata/subvol-1@s2': snapshot has dependent clones\nuse '-R' to destroy the following datasets:\ntank/vmdata/clone-1\n",
    });
    expect((await node.run('zfs', ['get', '-H', '-o', 'value', 'origin', 'tank/vmdata/clone-1'])).stdout).toBe('tank/vmdata/subvol-1@s2\n');
    expect((await node.run('zfs', ['destroy', '-R', 'tank/vmdata/subvol-1@s2'])).code).toBe(0);
    expect((await node.run('zfs', ['rollback', 'tank/vmdata/subvol-1@s1'])).code).toBe(0);
    expect(await node.run('zfs', ['destroy', 'tank/vmdata'])).toMatchObject({ code: 1 });
    expect(await node.run('zfs', ['create', 'tank/a/b'])).toMatchObject({ code: 1, stderr: "cannot create 'tank/a/b': parent does not exist\n" });
    expect(await node.run('zfs', ['create', 'tank/vmdata'])).toMatchObject({ code: 1, stderr: "cannot create 'tank/vmdata': dataset already exists\n" });
  });

  it('lists pools in bytes with -Hp and shows their status', async () => {
    const r = await node.run('zpool', ['list', '-Hp', 'tank']);
    const f = r.stdout.trim().split('\t');
    expect(f[0]).toBe('tank');
    expect(Number(f[1])).toBe(1024 ** 4);
    expect(f.slice(4)).toEqual(['-', '-', '0', '0', '1.00', 'ONLINE', '-']);
    expect(await node.run('zpool', ['list', 'nopool'])).toMatchObject({ code: 1, stderr: "cannot open 'nopool': no such pool\n" });
    const st = await node.run('zpool', ['status', 'tank']);
    expect(st.stdout).toMatch(/^ {2}pool: tank\n state: ONLINE\nconfig:\n\n\tNAME +STATE +READ WRITE CKSUM\n\ttank +ONLINE +0 +0 +0\n\t {2}\/dev\/sdb +ONLINE +0 +0 +0\n\nerrors: No known data errors\n$/);
    expect(await node.run('zpool', ['create', 'tank', '/dev/sdc'])).toMatchObject({ code: 1, stderr: "cannot create 'tank': pool already exists\n" });
  });
});
