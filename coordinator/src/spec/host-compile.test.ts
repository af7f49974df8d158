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

  describe('firewall', () => {
    const WEB = { direction: 'in', action: 'ACCEPT', proto: 'tcp', port: '443', comment: ' web\n' };
    const lan = { bridges: [{ name: 'vmbr0', address: '10.0.0.13/24' }] };
    const oneNode = (p: Record<string, unknown>) =>
      compileSpec(parseSpec({ version: 1, cluster: { name: 'lab' }, nodes: [{ name: 'pve1', hostProfile: 'p' }], hostProfiles: { p } }));
    const twoNodes = (p: Record<string, unknown>, q: Record<string, unknown> | undefined) =>
      compileSpec(
        parseSpec({
          version: 1,
          cluster: { name: 'lab' },
          nodes: [{ name: 'pve1', hostProfile: 'p' }, { name: 'pve2', ...(q ? { hostProfile: 'q' } : {}) }],
          hostProfiles: q ? { p, q } : { p },
        }),
      );

    it('puts the datacenter options in cluster.fw and the rules in host.fw, adding the management rule for a DROP policy and saying so', () => {
      const h = compileHost(oneNode({ network: lan, firewall: { rules: [WEB] } }), 'pve1');
      expect(h.errors).toEqual([]);
      expect(h.spec.firewall).toEqual({
        cluster: { options: { enable: '1', policy_in: 'DROP', policy_out: 'ACCEPT' }, rules: [] },
        host: {
          options: { enable: '1' },
          rules: [
            { type: 'in', action: 'ACCEPT', source: '10.0.0.0/24', dest: '', proto: 'tcp', dport: '22,8006', comment: 'phoenix: keep the Proxmox API (8006) and SSH (22) reachable from the management network' },
            { type: 'in', action: 'ACCEPT', source: '', dest: '', proto: 'tcp', dport: '443', comment: 'phoenix: web' },
          ],
        },
      });
      expect(h.warnings.filter((w) => w.path.includes('firewall'))).toEqual([
        { path: 'hostProfiles.p.firewall.policyIn', message: 'DROP with no rule accepting 8006/tcp and 22/tcp from the management network 10.0.0.0/24: node setup adds "IN ACCEPT -source 10.0.0.0/24 -p tcp -dport 22,8006" at the top of host.fw' },
      ]);
    });

    it('adds nothing when the profile opens 8006 and 22 itself, or when the input policy accepts', () => {
      const open = { direction: 'in', action: 'ACCEPT', source: '10.0.0.0/16', proto: 'tcp', port: '22,8000:8010' };
      const own = compileHost(oneNode({ network: lan, firewall: { rules: [open] } }), 'pve1');
      expect(own.spec.firewall?.host?.rules.map((r) => r.dport)).toEqual(['22,8000:8010']);
      const accepting = compileHost(oneNode({ firewall: { policyIn: 'ACCEPT', rules: [WEB] } }), 'pve1');
      expect(accepting.errors).toEqual([]);
      expect(accepting.spec.firewall?.host?.rules).toHaveLength(1);
      expect([...own.warnings, ...accepting.warnings].filter((w) => w.path.includes('firewall'))).toEqual([]);
    });

    it('refuses a DROP policy that would lock the node out when no management network is known, naming the field', () => {
      const h = compileHost(oneNode({ firewall: { rules: [WEB] } }), 'pve1');
      expect(h.errors).toEqual([{ path: 'hostProfiles.p.firewall.policyIn', message: expect.stringContaining('no rule accepting 8006/tcp and 22/tcp') as string }]);
      // A rule that opens the ports only to some other network does not count.
      const narrow = { direction: 'in', action: 'ACCEPT', source: '192.168.1.0/24', proto: 'tcp', port: '22,8006' };
      expect(compileHost(oneNode({ network: lan, firewall: { rules: [narrow] } }), 'pve1').spec.firewall?.host?.rules).toHaveLength(2);
    });

    it('refuses datacenter options the nodes disagree on, or a node the datacenter firewall would filter without a say', () => {
      const fw = (policyIn: string) => ({ network: lan, firewall: { policyIn } });
      expect(compileHost(twoNodes(fw('DROP'), fw('REJECT')), 'pve1').errors).toEqual([
        { path: 'hostProfiles.p.firewall.policyIn', message: 'DROP here but REJECT in hostProfiles.q (node pve2); the datacenter firewall options (cluster.fw) are one for all nodes' },
      ]);
      expect(compileHost(twoNodes(fw('DROP'), undefined), 'pve1').errors).toEqual([
        { path: 'hostProfiles.p.firewall', message: expect.stringContaining('node pve2 has no host profile') as string },
      ]);
      expect(compileHost(twoNodes(fw('DROP'), fw('DROP')), 'pve1').errors).toEqual([]);
    });
  });
});
