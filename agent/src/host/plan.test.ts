import { describe, expect, it } from 'vitest';
import { agentv1 } from '@phoenix/shared';
import { lineDiff } from './diff.js';
import { exportsContent, subIdContent } from './file-content.js';
import { planHost } from './plan.js';
import type { ObservedHost } from './types.js';
import { validateHostSpec } from './validate.js';

const empty = (over: Partial<ObservedHost> = {}): ObservedHost => ({
  pools: new Set(),
  disks: new Map(),
  datasets: new Map(),
  storages: new Map(),
  files: new Map(),
  loadedProfiles: new Set(),
  dirs: new Map(),
  firewall: new Map(),
  ...over,
});

const clean = (device: string) => ({ device, signatures: [], partitions: [] });

const spec = (over: Partial<agentv1.HostSpec> = {}) =>
  agentv1.HostSpec.fromPartial({
    pools: [{ name: 'quickOS', layout: 'mirror', disks: ['/dev/disk/by-id/a', '/dev/disk/by-id/b'], poolProperties: { autotrim: 'on' }, fsProperties: { compression: 'lz4', atime: 'off' } }],
    datasets: [{ name: 'quickOS/lxc-disks', properties: { quota: '600G', recordsize: '16K' } }],
    storages: [{ id: 'quickOS-lxc-disks', type: 'zfspool', content: ['images', 'rootdir'], options: { pool: 'quickOS/lxc-disks' } }],
    subIds: [{ kind: 'g', user: 'root', start: 33, count: 1 }],
    ...over,
  });

describe('host planning', () => {
  it('creates pools, datasets and storages in that order with the exact commands', () => {
    const seen = empty({ disks: new Map([['/dev/disk/by-id/a', clean('/dev/nvme0n1')], ['/dev/disk/by-id/b', clean('/dev/nvme1n1')]]) });
    const plan = planHost(spec(), seen);
    expect(plan.refusals).toEqual([]);
    expect(plan.actions.map((a) => a.step)).toEqual(['pool:quickOS', 'dataset:quickOS/lxc-disks', 'storage:quickOS-lxc-disks', 'file:/etc/subgid']);
    const [pool, ds, st] = plan.actions;
    expect(pool).toMatchObject({ tool: 'zpool', args: ['create', '-o', 'autotrim=on', '-O', 'atime=off', '-O', 'compression=lz4', 'quickOS', 'mirror', '/dev/disk/by-id/a', '/dev/disk/by-id/b'] });
    expect(ds).toMatchObject({ tool: 'zfs', args: ['create', '-p', '-o', 'quota=600G', '-o', 'recordsize=16K', 'quickOS/lxc-disks'] });
    expect(st).toMatchObject({ tool: 'pvesm', args: ['add', 'zfspool', 'quickOS-lxc-disks', '--pool', 'quickOS/lxc-disks', '--content', 'images,rootdir'] });
  });

  it('plans nothing for a converged node (sizes compared as bytes)', () => {
    const seen = empty({
      pools: new Set(['quickOS']),
      datasets: new Map([['quickOS/lxc-disks', { quota: String(600 * 1024 ** 3), recordsize: '16384' }]]),
      storages: new Map([['quickOS-lxc-disks', { type: 'zfspool', content: ['rootdir', 'images'], options: { pool: 'quickOS/lxc-disks' } }]]),
      files: new Map([['/etc/subgid', 'root:100000:65536\nroot:33:1\n']]),
    });
    const plan = planHost(spec(), seen);
    expect(plan.actions).toEqual([]);
    expect(plan.drift).toEqual([]);
  });

  it('refuses a pool on disks that hold data unless the pool allows it', () => {
    const dirty = { device: '/dev/sdb', signatures: ['gpt partition table'], partitions: ['/dev/sdb1 (ext4)'] };
    const seen = empty({ disks: new Map([['/dev/disk/by-id/a', clean('/dev/sda')], ['/dev/disk/by-id/b', dirty]]) });
    const refused = planHost(spec(), seen);
    expect(refused.refusals).toEqual([{ pool: 'quickOS', disk: '/dev/disk/by-id/b', reason: expect.stringContaining('partition /dev/sdb1 (ext4)') as string }]);
    expect(refused.actions.some((a) => a.step === 'pool:quickOS')).toBe(false);
    const allowed = planHost(spec({ pools: [{ ...spec().pools[0]!, allowDestructive: true }] }), seen);
    expect(allowed.refusals).toEqual([]);
    expect(allowed.actions[0]).toMatchObject({ tool: 'zpool', args: expect.arrayContaining(['-f']) as string[] });
  });

  it('repairs what is safe and reports the rest', () => {
    const seen = empty({
      pools: new Set(['quickOS']),
      datasets: new Map([['quickOS/lxc-disks', { quota: '0', recordsize: '16384' }]]),
      storages: new Map([['quickOS-lxc-disks', { type: 'zfspool', content: ['images'], options: { pool: 'other/place' } }]]),
      files: new Map([['/etc/subgid', 'root:33:1\n']]),
    });
    const plan = planHost(spec(), seen);
    expect(plan.actions.map((a) => (a.kind === 'command' ? a.args : []))).toEqual([
      ['set', 'quota=600G', 'quickOS/lxc-disks'],
      ['set', 'quickOS-lxc-disks', '--content', 'images,rootdir'],
    ]);
    expect(plan.drift).toEqual([{ step: 'storage:quickOS-lxc-disks', message: expect.stringContaining('pool is other/place') as string }]);
  });

  it('loads an installed profile that the kernel does not have, and nothing for one it has', () => {
    const profile = { name: 'lxc-phoenix-v2', content: 'profile lxc-phoenix-v2 {\n}\n' };
    const s = spec({ pools: [], datasets: [], storages: [], subIds: [], apparmorProfiles: [profile] });
    const notLoaded = planHost(s, empty({ files: new Map([['/etc/apparmor.d/lxc-phoenix-v2', profile.content]]) }));
    expect(notLoaded.actions).toMatchObject([{ tool: 'apparmorParser', args: ['-r', '-W', '/etc/apparmor.d/lxc-phoenix-v2'] }]);
    const loaded = planHost(s, empty({ files: new Map([['/etc/apparmor.d/lxc-phoenix-v2', profile.content]]), loadedProfiles: new Set(['lxc-phoenix-v2']) }));
    expect(loaded.actions).toEqual([]);
  });

  it('creates bind-mount sources and fixes their owner', () => {
    const s = spec({ pools: [], datasets: [], storages: [], subIds: [], directories: [{ path: '/srv/ct/logs', uid: 100033, gid: 33, mode: '' }] });
    expect(planHost(s, empty()).actions).toMatchObject([{ kind: 'dir', create: true, uid: 100033, gid: 33, mode: 0o755 }]);
    const wrong = planHost(s, empty({ dirs: new Map([['/srv/ct/logs', { uid: 0, gid: 0, mode: 0o700 }]]) }));
    expect(wrong.actions).toMatchObject([{ kind: 'dir', create: false, uid: 100033, gid: 33, mode: undefined }]);
  });
});

describe('host files', () => {
  it('adds only the subordinate ranges no entry covers, keeping the rest', () => {
    const before = 'root:100000:65536\nalice:200000:65536\n';
    expect(subIdContent(before, [{ kind: 'u', user: 'root', start: 100000, count: 1000 }])).toBe(before);
    expect(subIdContent(before, [{ kind: 'g', user: 'root', start: 33, count: 1 }])).toBe(`${before}root:33:1\n`);
  });

  it('gives every NFS client its own copy of the options, in a block a second run replaces', () => {
    const exp = [{ path: '/quickOS/vm-persistent-data', clients: ['10.0.0.111', '10.0.0.102'], options: ['rw', 'sync'] }];
    const first = exportsContent('/srv/other 10.0.0.5(ro)\n', exp);
    expect(first).toContain('/quickOS/vm-persistent-data 10.0.0.111(rw,sync) 10.0.0.102(rw,sync)\n');
    expect(first.startsWith('/srv/other 10.0.0.5(ro)\n')).toBe(true);
    expect(exportsContent(first, exp)).toBe(first);
  });

  it('diffs a file change line by line', () => {
    expect(lineDiff('/etc/subgid', 'root:100000:65536\n', 'root:100000:65536\nroot:33:1\n')).toEqual(['--- /etc/subgid', '+++ /etc/subgid', ' root:100000:65536', '+root:33:1']);
    expect(lineDiff('/etc/new', undefined, 'a\n')).toEqual(['--- /dev/null', '+++ /etc/new', '+a']);
  });
});

describe('host spec validation', () => {
  it('names the field of a layout with too few disks', () => {
    expect(() => validateHostSpec(spec({ pools: [{ ...spec().pools[0]!, layout: 'raidz2' }] }))).toThrow(/spec\.pools\.0\.disks: a raidz2 pool needs at least 3 disks/);
  });
  it('refuses a profile whose text declares another name', () => {
    expect(() => validateHostSpec(spec({ apparmorProfiles: [{ name: 'lxc-a', content: 'profile lxc-b {}' }] }))).toThrow(/apparmor_profiles\.0\.content/);
  });
});
