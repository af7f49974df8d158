import { describe, expect, it } from 'vitest';
import { compileSpec } from './compile.js';
import { compileHost, ID_OFFSET } from './host-compile.js';
import { parseSpec } from './load.js';

const spec = (containers: unknown[], profile: Record<string, unknown> = {}) =>
  compileSpec(
    parseSpec({
      version: 1,
      cluster: { name: 'lab' },
      nodes: [{ name: 'pve1', hostProfile: 'p' }, { name: 'pve2' }],
      hostProfiles: { p: profile },
      templates: [{ kind: 'os-template', name: 'debian', file: 'debian-12-standard_12.7-1_amd64.tar.zst' }],
      containers,
    }),
  );

const nginx = {
  name: 'nginx',
  template: 'debian',
  unprivileged: true,
  apparmor: { profile: 'lxc-phoenix-v2' },
  idmap: [{ type: 'gid', containerId: 33, hostId: 33, size: 1 }],
  mounts: [
    { type: 'bind', hostPath: '/srv/nginx/logs', path: '/var/log/nginx', ownerUid: 33, ownerGid: 33 },
    { type: 'bind', hostPath: '/srv/nginx/conf/site.conf', path: '/etc/nginx/site.conf' },
  ],
};

describe('host spec of a node', () => {
  it('carries the profile: pools with Phoenix creation flags, datasets, ARC, storages, exports', () => {
    const c = spec([], {
      zfs: {
        arcMaxGiB: 2,
        pools: [{ name: 'tank', layout: 'mirror', disks: ['/dev/sda', '/dev/sdb'] }],
        datasets: [
          { name: 'tank/ct', properties: { quota: '10G' }, storage: { id: 'tank-ct', type: 'zfspool', content: ['rootdir'] } },
          { name: 'tank/iso', storage: { id: 'tank-iso', type: 'dir', content: ['iso'] } },
        ],
      },
      nfs: { exports: [{ path: '/tank/iso', clients: ['10.0.0.2'] }] },
    });
    const h = compileHost(c, 'pve1');
    expect(h.spec.pools).toEqual([{ name: 'tank', layout: 'mirror', disks: ['/dev/sda', '/dev/sdb'], allowDestructive: false, poolProperties: { autotrim: 'on' }, fsProperties: { compression: 'lz4', atime: 'off' } }]);
    expect(h.spec.arcMaxBytes).toBe(2 * 1024 ** 3);
    expect(h.spec.storages).toEqual([
      { id: 'tank-ct', type: 'zfspool', content: ['rootdir'], options: { pool: 'tank/ct' } },
      { id: 'tank-iso', type: 'dir', content: ['iso'], options: { path: '/tank/iso', 'create-base-path': '0' } },
    ]);
    expect(h.spec.nfsExports).toEqual([{ path: '/tank/iso', clients: ['10.0.0.2'], options: ['rw', 'sync', 'no_subtree_check'] }]);
    expect(h.warnings).toEqual([]);
  });

  it('adds what containers need: the AppArmor profile, id ranges, bind-mount sources owned through the map', () => {
    const h = compileHost(spec([nginx]), 'pve2');
    expect(h.spec.apparmorProfiles.map((p) => p.name)).toEqual(['lxc-phoenix-v2']);
    expect(h.spec.apparmorProfiles[0]?.content).toMatch(/^profile lxc-phoenix-v2 /m);
    expect(h.spec.subIds).toEqual([
      { kind: 'g', user: 'root', start: 33, count: 1 },
      { kind: 'g', user: 'root', start: ID_OFFSET, count: 65536 },
      { kind: 'u', user: 'root', start: ID_OFFSET, count: 65536 },
    ]);
    expect(h.spec.directories).toEqual([
      { path: '/srv/nginx/conf', uid: ID_OFFSET, gid: ID_OFFSET, mode: '' },
      { path: '/srv/nginx/logs', uid: ID_OFFSET + 33, gid: 33, mode: '' },
    ]);
  });

  it('names a profile no one provides, and the profile fields node setup leaves undone', () => {
    const h = compileHost(spec([{ ...nginx, apparmor: { profile: 'lxc-mystery' } }], { timezone: 'Europe/Berlin' }), 'pve1');
    expect(h.errors).toEqual([{ path: 'containers.0.apparmor.profile', message: expect.stringContaining('lxc-mystery') as string }]);
    expect(h.warnings).toEqual([{ path: 'hostProfiles.p.timezone', message: 'the timezone is not set by node setup' }]);
  });
});
