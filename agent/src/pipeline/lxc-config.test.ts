import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, agentv1, commonv1 } from '@phoenix/shared';
import type { DeepPartial } from '../drivers/testing/deep-partial.js';
import type { GuestConfig } from '../drivers/types.js';
import { diffLxc, netValue } from './lxc-config.js';
import { planDevEntries } from './gpu.js';
import { idmapLines } from './raw-lines.js';

type SpecInput = DeepPartial<agentv1.GuestSpec>;
const spec = (over: SpecInput = {}) => agentv1.GuestSpec.fromPartial({ vmid: 200, type: commonv1.GuestType.LXC, unprivileged: true, ...over } as agentv1.GuestSpec);
const cfg = (values: Record<string, string>, lxc: GuestConfig['lxc'] = []): GuestConfig => ({ values: { unprivileged: '1', ...values }, lxc });
const noGpu = { mode: 'dev' as const, devices: [] };

describe('container config diff', () => {
  it('leaves unset plain values alone and reports nothing for a matching config', () => {
    const c = cfg({ cores: '2', memory: '2048', hostname: 'a', rootfs: 'local-zfs:subvol-200-disk-0,size=8G' });
    expect(diffLxc(spec({ cores: 2 }), c, noGpu)).toMatchObject({ set: {}, delete: [], resize: [], raw: undefined });
  });

  it('keeps the generated MAC when the spec has none, and notices real network changes', () => {
    const cur = 'name=eth0,bridge=vmbr0,gw=10.0.0.1,hwaddr=BC:24:11:12:34:56,ip=10.0.0.5/24,type=veth';
    const n = { index: 0, name: 'eth0', bridge: 'vmbr0', ip: '10.0.0.5/24', gateway: '10.0.0.1', mac: '', vlanTag: 0, firewall: false, model: '' };
    expect(diffLxc(spec({ networks: [n] }), cfg({ net0: cur }), noGpu).set).toEqual({});
    const moved = diffLxc(spec({ networks: [{ ...n, ip: '10.0.0.6/24' }] }), cfg({ net0: cur, net1: 'name=eth1,bridge=vmbr1' }), noGpu);
    expect(moved.set['net0']).toBe(netValue({ ...n, ip: '10.0.0.6/24' }, 'BC:24:11:12:34:56'));
    expect(moved.set['net0']).toContain('hwaddr=BC:24:11:12:34:56');
    expect(moved.delete).toEqual(['net1']);
  });

  it('mount points: keeps the volume when options change, grows, refuses shrink and storage moves, removes extras', () => {
    const c = cfg({ mp0: 'local-zfs:subvol-200-disk-1,mp=/data,size=8G', mp1: '/srv/old,mp=/old' });
    const mp = { index: 0, volume: 'local-zfs:8', path: '/srv/data', readOnly: false, backup: true, shared: false };
    const d = diffLxc(spec({ mountPoints: [mp] }), c, noGpu);
    expect(d.set['mp0']).toBe('local-zfs:subvol-200-disk-1,mp=/srv/data,backup=1,size=8G');
    expect(d.delete).toEqual(['mp1']);
    expect(diffLxc(spec({ mountPoints: [{ ...mp, path: '/data', backup: false, volume: 'local-zfs:20' }] }), c, noGpu).resize).toEqual([
      { disk: 'mp0', size: '20G' },
    ]);
    expect(() => diffLxc(spec({ mountPoints: [{ ...mp, volume: 'local-zfs:4' }] }), c, noGpu)).toThrow(InvalidArgumentError);
    expect(() => diffLxc(spec({ mountPoints: [{ ...mp, volume: 'tank:8' }] }), c, noGpu)).toThrow(/orphan its data/);
  });

  it('features: sets, compares order-insensitively, removes when all off', () => {
    const on = { nesting: true, keyctl: true, fuse: false, mount: [] };
    expect(diffLxc(spec({ lxcFeatures: on }), cfg({ features: 'nesting=1,keyctl=1' }), noGpu).set).toEqual({});
    expect(diffLxc(spec({ lxcFeatures: { ...on, fuse: true } }), cfg({ features: 'nesting=1,keyctl=1' }), noGpu).set).toEqual({ features: 'fuse=1,keyctl=1,nesting=1' });
    expect(diffLxc(spec({ lxcFeatures: { nesting: false, keyctl: false, fuse: false, mount: [] } }), cfg({ features: 'nesting=1' }), noGpu).delete).toEqual(['features']);
  });

  it('refuses to flip privileged/unprivileged on an existing container', () => {
    expect(() => diffLxc(spec({ unprivileged: false }), cfg({}), noGpu)).toThrow(/fixed at creation/);
  });

  it('owns the raw lines: apparmor and raw lines from the spec, stale ones removed', () => {
    const current = [
      { key: 'lxc.cgroup2.devices.allow', value: 'c 195:* rwm' },
      { key: 'lxc.apparmor.profile', value: 'unconfined' },
    ];
    const d = diffLxc(spec({ apparmorProfile: 'unconfined', rawLxc: ['lxc.mount.entry=/dev/fuse dev/fuse none bind,create=file'] }), cfg({}, current), noGpu);
    expect(d.raw).toEqual([
      { key: 'lxc.apparmor.profile', value: 'unconfined' },
      { key: 'lxc.mount.entry', value: '/dev/fuse dev/fuse none bind,create=file' },
    ]);
    expect(d.needsRestart).toBe(true);
  });
});

describe('idmaps', () => {
  it('completes a single gid mapping with the default shift around it and maps uids fully', () => {
    expect(idmapLines([{ kind: 'g', containerStart: 33, hostStart: 33, count: 1 }]).map((l) => l.value)).toEqual([
      'u 0 100000 65536',
      'g 0 100000 33',
      'g 33 33 1',
      'g 34 100034 65502',
    ]);
  });
  it('refuses overlapping ranges', () => {
    expect(() =>
      idmapLines([
        { kind: 'u', containerStart: 0, hostStart: 1000, count: 10 },
        { kind: 'u', containerStart: 5, hostStart: 2000, count: 10 },
      ]),
    ).toThrow(/overlaps/);
  });
});

describe('GPU dev entries', () => {
  it('keeps slots of devices still wanted, frees others, never sets a slot it deletes', () => {
    const current = { dev0: '/dev/nvidia1', dev1: '/dev/fuse', dev2: '/dev/nvidiactl', dev5: '/dev/nvidia0,gid=44' };
    const plan = planDevEntries(current, [
      { path: '/dev/nvidia0', major: 195, minor: 0 },
      { path: '/dev/nvidiactl', major: 195, minor: 255 },
      { path: '/dev/nvidia-uvm', major: 509, minor: 0 },
    ]);
    expect(plan.delete).toEqual(['dev0']);
    expect(plan.set).toEqual({ dev3: '/dev/nvidia-uvm' });
  });
});
