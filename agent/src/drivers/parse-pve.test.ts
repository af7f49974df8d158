import { describe, expect, it } from 'vitest';
import { decodePveEscapes, formatPropertyString, parseDiskSize, parseGuestConfig, parsePropertyString } from './parse-config.js';
import { parsePctList, parsePvesmStatus, parsePveamAvailable, parsePveamList, parseQmList, parseSnapshotTree } from './parse-pve.js';
import { parseZfsList, parseZpoolList } from './parse-zfs.js';
import { rawLinesOf, replaceRawLines } from './lxc-conf-file.js';

const pad = (s: string, n: number) => s.padEnd(n);

describe('pct/qm output parsers', () => {
  it('parses pct list with its fixed columns, trailing spaces and an empty lock column', () => {
    const text =
      `${pad('VMID', 10)} ${pad('Status', 10)} ${pad('Lock', 12)} ${pad('Name', 20)}\n` +
      `${pad('100', 10)} ${pad('running', 10)} ${pad('', 12)} ${pad('Copy-Base', 20)}\n` +
      `${pad('901', 10)} ${pad('stopped', 10)} ${pad('create', 12)} ${pad('CT901', 20)}\n`;
    expect(parsePctList(text)).toEqual([
      { vmid: 100, status: 'running', lock: '', name: 'Copy-Base' },
      { vmid: 901, status: 'stopped', lock: 'create', name: 'CT901' },
    ]);
    expect(parsePctList('')).toEqual([]);
  });

  it('parses qm list', () => {
    const text =
      '      VMID NAME                 STATUS     MEM(MB)    BOOTDISK(GB) PID       \n' +
      '      9000 ubuntu-2404-cloud    stopped    2048              32.00 0         \n' +
      '      1001 Portainer            running    4096              64.00 12345     \n';
    expect(parseQmList(text)).toEqual([
      { vmid: 9000, name: 'ubuntu-2404-cloud', status: 'stopped', memoryMib: 2048, bootDiskGib: 32, pid: 0 },
      { vmid: 1001, name: 'Portainer', status: 'running', memoryMib: 4096, bootDiskGib: 64, pid: 12345 },
    ]);
  });

  it('parses a config: sorted keys, escaped description, raw lxc lines in file order', () => {
    const cfg = parseGuestConfig(
      [
        'arch: amd64',
        'cores: 2',
        'description: line one%0Aphoenix%3A 100%25',
        'features: keyctl=1,nesting=1',
        'hostname: CT100',
        'lock: create',
        'net0: name=eth0,bridge=vmbr0,gw=10.0.0.1,hwaddr=BC:24:11:00:00:01,ip=10.0.0.5/24,type=veth',
        'rootfs: local-zfs:subvol-100-disk-0,size=8G',
        'lxc.idmap: u 0 100000 65536',
        'lxc.apparmor.profile: unconfined',
        'lxc.idmap: g 0 100000 65536',
      ].join('\n'),
    );
    expect(cfg.values['description']).toBe('line one\nphoenix: 100%');
    expect(cfg.values['lock']).toBe('create');
    expect(cfg.lxc.map((l) => `${l.key}=${l.value}`)).toEqual([
      'lxc.idmap=u 0 100000 65536',
      'lxc.apparmor.profile=unconfined',
      'lxc.idmap=g 0 100000 65536',
    ]);
    const net = parsePropertyString(cfg.values['net0'] ?? '');
    expect(net.get('ip')).toBe('10.0.0.5/24');
    const root = parsePropertyString(cfg.values['rootfs'] ?? '', 'volume');
    expect(root.get('volume')).toBe('local-zfs:subvol-100-disk-0');
    expect(parseDiskSize(root.get('size') ?? '')).toBe(8 * 1024 ** 3);
    expect(formatPropertyString([['mp', '/data'], ['volume', 'local-zfs:8']], 'volume')).toBe('local-zfs:8,mp=/data');
    expect(decodePveEscapes('a%3Ab')).toBe('a:b');
  });

  it('parses the snapshot tree with parents, times, descriptions and without "current"', () => {
    const text = [
      '`-> base-ready                  2025-01-31 14:02:11     no-description',
      ' `-> final-form                 2025-01-31 14:05:00     phoenix features',
      '  `-> current                                           You are here!',
    ].join('\n');
    expect(parseSnapshotTree(text)).toEqual([
      { name: 'base-ready', parent: undefined, time: '2025-01-31 14:02:11', description: 'no-description' },
      { name: 'final-form', parent: 'base-ready', time: '2025-01-31 14:05:00', description: 'phoenix features' },
    ]);
    expect(parseSnapshotTree('`-> current                                           You are here!\n')).toEqual([]);
  });
});

describe('storage and template parsers', () => {
  it('parses pvesm status including a disabled storage with N/A', () => {
    const text = [
      'Name             Type     Status     Total (KiB)      Used (KiB) Available (KiB)        %',
      'local             dir     active       98497780        12345678        81088888   12.53%',
      'local-zfs     zfspool     active      456000000        1000000       455000000    0.22%',
      'nfs-x             nfs   disabled              0               0               0      N/A',
    ].join('\n');
    const s = parsePvesmStatus(text);
    expect(s.map((x) => x.id)).toEqual(['local', 'local-zfs', 'nfs-x']);
    expect(s[0]).toMatchObject({ type: 'dir', status: 'active', totalBytes: 98497780 * 1024, usedPercent: 12.53 });
    expect(s[2]?.usedPercent).toBeUndefined();
  });

  it('parses pveam list and available (old and new column layout)', () => {
    const list = `${pad('NAME', 60)} SIZE\n${pad('local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst', 60)} 120.29MB\n`;
    expect(parsePveamList(list)).toEqual([{ volid: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst', sizeMib: 120.29 }]);
    const avail = `${pad('system', 15)} ${pad('ubuntu-24.04-standard_24.04-2_amd64.tar.zst', 60)} amd64\n${pad('mail', 15)} proxmox-mail-gateway-8.1-standard_8.1-1_amd64.tar.zst\n`;
    expect(parsePveamAvailable(avail)).toEqual([
      { section: 'system', template: 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst', arch: 'amd64' },
      { section: 'mail', template: 'proxmox-mail-gateway-8.1-standard_8.1-1_amd64.tar.zst', arch: undefined },
    ]);
  });

  it('parses zfs list -Hp and zpool list -Hp', () => {
    const zfs = 'rpool/data\t1048576\t5368709120\t98304\t/rpool/data\tfilesystem\nrpool/data/vm-100-disk-0\t34359738368\t5368709120\t4096\t-\tvolume\n';
    expect(parseZfsList(zfs)).toEqual([
      { name: 'rpool/data', usedBytes: 1048576, availableBytes: 5368709120, referencedBytes: 98304, mountpoint: '/rpool/data', type: 'filesystem' },
      { name: 'rpool/data/vm-100-disk-0', usedBytes: 34359738368, availableBytes: 5368709120, referencedBytes: 4096, mountpoint: '-', type: 'volume' },
    ]);
    expect(parseZpoolList('rpool\t549755813888\t1073741824\t548682072064\t-\t0\t1.00\tONLINE\n')).toEqual([
      { name: 'rpool', sizeBytes: 549755813888, allocatedBytes: 1073741824, freeBytes: 548682072064, fragmentationPercent: undefined, capacityPercent: 0, dedupRatio: 1, health: 'ONLINE' },
    ]);
  });
});

describe('raw lxc lines in the config file', () => {
  const file = [
    '#my notes',
    'arch: amd64',
    'hostname: ct',
    'parent: snap1',
    'lxc.apparmor.profile: unconfined',
    'lxc.cgroup2.devices.allow: c 195:* rwm',
    '',
    '[snap1]',
    'arch: amd64',
    'hostname: ct',
    'lxc.cgroup2.devices.allow: c 195:* rwm',
    'snaptime: 1700000000',
    '',
  ].join('\n');

  it('reads only the live section', () => {
    expect(rawLinesOf(file)).toEqual([
      { key: 'lxc.apparmor.profile', value: 'unconfined' },
      { key: 'lxc.cgroup2.devices.allow', value: 'c 195:* rwm' },
    ]);
  });

  it('replaces the live raw lines and leaves snapshot sections untouched', () => {
    const next = replaceRawLines(file, [{ key: 'lxc.idmap', value: 'u 0 100000 65536' }]);
    expect(next).toBe(
      [
        '#my notes',
        'arch: amd64',
        'hostname: ct',
        'parent: snap1',
        'lxc.idmap: u 0 100000 65536',
        '',
        '[snap1]',
        'arch: amd64',
        'hostname: ct',
        'lxc.cgroup2.devices.allow: c 195:* rwm',
        'snaptime: 1700000000',
        '',
      ].join('\n'),
    );
    expect(replaceRawLines(next, [{ key: 'lxc.idmap', value: 'u 0 100000 65536' }])).toBe(next);
  });
});
