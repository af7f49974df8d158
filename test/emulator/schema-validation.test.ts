import { describe, expect, it } from 'vitest';
import { errorText } from './src/core/errors.js';
import { validateCommand } from './src/core/pve-cli.js';
import { parsePropertyString, printPropertyString } from './src/core/property-string.js';
import { validateParams } from './src/core/schema-validate.js';
import { commandSchema, resolveCmd } from './src/core/cli-args.js';
import { registerQemuFormats } from './src/qm/qemu-config.js';

// Argument validation of pct/qm create/set/clone against the API schemas (api-params.json),
// checked in-process through the same code path the executables use.
registerQemuFormats();

/** What the CLI prints to stderr for a command line ('' when it validates). */
function stderrOf(tool: string, argv: string[]): string {
  try {
    validateCommand(tool, argv, 'pve');
    return '';
  } catch (err) {
    return errorText(err);
  }
}

const PCT_SET = 'pct set <vmid> [OPTIONS]\n';
const PCT_CREATE = 'pct create <vmid> <ostemplate> [OPTIONS]\n';
const QM_SET = 'qm set <vmid> [OPTIONS]\n';
const HEAD = '400 Parameter verification failed.\n';

describe('scalar parameters', () => {
  it.each([
    [['--cores', '0'], 'cores: value must have a minimum value of 1\n'],
    [['--cores', '9000'], 'cores: value must have a maximum value of 8192\n'],
    [['--memory', 'abc'], "memory: type check ('integer') failed - got 'abc'\n"],
    [['--memory', '8'], 'memory: value must have a minimum value of 16\n'],
    [['--cpulimit', '1.5x'], "cpulimit: type check ('number') failed - got '1.5x'\n"],
    [['--arch', 'sparc'], "arch: value 'sparc' does not have a value in the enumeration 'amd64, i386, arm64, armhf, riscv32, riscv64'\n"],
    [['--hostname', 'bad_name!'], 'hostname: invalid format - value does not look like a valid DNS name\n\n'],
    [['--tty', '7'], 'tty: value must have a maximum value of 6\n'],
    [['--lock', 'weird'], "lock: value 'weird' does not have a value in the enumeration 'backup, create, destroyed, disk, fstrim, migrate, mounted, rollback, snapshot, snapshot-delete'\n"],
    [['--delete', '1abc'], "delete: invalid format - invalid configuration ID '1abc'\n\n"],
    [['--nameserver', '10.0.0.1 nope'], 'nameserver: invalid format - value does not look like a valid IP address\n\n'],
    [['--startup', 'order=x'], 'startup: invalid format - unable to parse startup options\n\n'],
    [['--timezone', 'Mars/Olympus'], "timezone: invalid format - invalid time zone 'Mars/Olympus'\n\n"],
  ])('pct set %j', (args, line) => {
    expect(stderrOf('pct', ['set', '100', ...args])).toBe(HEAD + line + PCT_SET);
  });

  it('lists every bad parameter', () => {
    const out = stderrOf('pct', ['set', '100', '--cores', '0', '--memory', 'x', '--swap', '-1']);
    expect(out.split('\n').slice(1, 4).sort()).toEqual([
      'cores: value must have a minimum value of 1',
      "memory: type check ('integer') failed - got 'x'",
      'swap: value must have a minimum value of 0',
    ]);
    expect(out.startsWith(HEAD) && out.endsWith(PCT_SET)).toBe(true);
  });

  it('validates snapshot names (pve-configid, at most 40 characters)', () => {
    const usage = 'pct snapshot <vmid> <snapname> [OPTIONS]\n';
    expect(stderrOf('pct', ['snapshot', '100', '1abc'])).toBe(`${HEAD}snapname: invalid format - invalid configuration ID '1abc'\n\n${usage}`);
    expect(stderrOf('pct', ['snapshot', '100', `s${'x'.repeat(40)}`])).toBe(`${HEAD}snapname: value may only be 40 characters long\n${usage}`);
    expect(stderrOf('pct', ['snapshot', '100', 'pre-configured'])).toBe('');
  });

  it('rejects properties the schema does not define (API path)', () => {
    const schema = commandSchema('pct', (resolveCmd('pct', ['set']).def ?? {}) as never);
    expect(() => validateParams({ vmid: '100', node: 'pve', colour: 'red' }, schema)).toThrow();
    try {
      validateParams({ vmid: '100', node: 'pve', colour: 'red' }, schema);
    } catch (err) {
      expect(errorText(err)).toBe(`${HEAD}colour: property is not defined in schema and the schema does not allow additional properties\n`);
    }
  });
});

describe('property strings', () => {
  it.each([
    ['net0', 'bridge=vmbr0', 'net0: invalid format - format error\nnet0.name: property is missing and it is not optional\n\n'],
    ['net0', 'name=eth0,colour=red', 'net0: invalid format - invalid key in comma-separated list property: colour\n\n'],
    ['net0', 'name=eth0,name=eth1', 'net0: invalid format - duplicate key in comma-separated list property: name\n\n'],
    ['net0', 'name=eth0,ip=10.0.0.5', 'net0: invalid format - format error\nnet0.ip: invalid format - value does not look like a valid ipv4 network configuration\n\n\n'],
    ['net0', 'name=eth0,ip=10.0.0.5/24,gw=10.0.0.300', 'net0: invalid format - format error\nnet0.gw: invalid format - value does not look like a valid IPv4 address\n\n\n'],
    ['net0', 'name=eth0,hwaddr=01:00:00:00:00:01', 'net0: invalid format - format error\nnet0.hwaddr: invalid format - value does not look like a valid unicast MAC address\n\n\n'],
    ['net0', 'name=eth0,tag=5000', 'net0: invalid format - format error\nnet0.tag: value must have a maximum value of 4094\n\n'],
    ['net0', 'eth0', 'net0: invalid format - value without key, but schema does not define a default key\n\n'],
    ['features', 'nesting=maybe', "features: invalid format - format error\nfeatures.nesting: type check ('boolean') failed - got 'maybe'\n\n"],
    ['mp0', 'local-zfs:8', 'mp0: invalid format - format error\nmp0.mp: property is missing and it is not optional\n\n'],
    ['mp0', 'local-zfs:8,mp=/data,mountoptions=noatime;bogus', 'mp0: invalid format - format error\nmp0.mountoptions: value does not match the regex pattern\n\n'],
    ['mp0', '/srv/x,mp=/data/../etc', 'mp0: invalid format - format error\nmp0.mp: invalid format - /data/../etc contains illegal character sequences\n\n\n'],
    ['rootfs', 'local-zfs:8,size=lots', 'rootfs: invalid format - format error\nrootfs.size: invalid format - value does not look like a valid disk size: lots\n\n\n'],
    ['dev0', '/tmp/nvidia0', 'dev0: invalid format - format error\ndev0.path: invalid format - /tmp/nvidia0 is not a valid device path\n\n\n'],
    ['dev0', '/dev/nvidia0,mode=999', 'dev0: invalid format - format error\ndev0.mode: value does not match the regex pattern\n\n'],
  ])('pct set --%s %s', (param, value, line) => {
    expect(stderrOf('pct', ['set', '100', `--${param}`, value])).toBe(HEAD + line + PCT_SET);
  });

  it.each([
    ['net0', 'name=eth0,bridge=vmbr0,ip=10.0.0.150/24,gw=10.0.0.1,hwaddr=52:54:00:AA:BB:CC'],
    ['net0', 'name=eth0,bridge=vmbr0,ip=dhcp,ip6=auto,firewall=1,tag=10'],
    ['features', 'nesting=1,keyctl=1,mknod=1'],
    ['mp0', 'local-zfs:20,mp=/qdrant/storage'],
    ['mp1', '/mnt/pve/quickOS/lxc-persistent-data/101/ssl,mp=/etc/nginx/ssl'],
    ['rootfs', 'volume=local-zfs:subvol-100-disk-0,size=8G,acl=1'],
    ['startup', 'order=3,up=5,down=5'],
    ['dev0', '/dev/nvidia0,mode=0666'],
  ])('accepts pct set --%s %s', (param, value) => {
    expect(stderrOf('pct', ['set', '100', `--${param}`, value])).toBe('');
  });

  it.each([
    ['ipconfig0', 'ip=10.0.0.5', 'ipconfig0: invalid format - format error\nipconfig0.ip: invalid format - value does not look like a valid ipv4 network configuration\n\n\n'],
    ['ipconfig0', 'gw=10.0.0.1', "ipconfig0: invalid format - format error\nipconfig0.ip: missing property required by 'ipconfig0.gw'\n\n"],
    ['scsi0', 'foo', "scsi0: invalid format - format error\nscsi0.file: invalid format - unable to parse volume ID 'foo'\n\n\n"],
    ['scsi0', 'local-zfs:32,cache=fast', "scsi0: invalid format - format error\nscsi0.cache: value 'fast' does not have a value in the enumeration 'none, writethrough, writeback, unsafe, directsync'\n\n"],
    ['net0', 'virtio=01:00:00:00:00:01,bridge=vmbr0', 'net0: invalid format - format error\nnet0.macaddr: invalid format - value does not look like a valid unicast MAC address\n\n\n'],
    ['net0', 'rtl9999,bridge=vmbr0', "net0: invalid format - format error\nnet0.model: value 'rtl9999' does not have a value in the enumeration"],
    ['serial0', '/tmp/socket', 'serial0: value does not match the regex pattern\n'],
    ['boot', 'order=scsi0;floppy0', "boot: invalid format - format error\nboot.order: invalid format - invalid boot device 'floppy0'\n\n\n"],
    ['memory', 'current=8', 'memory: invalid format - format error\nmemory.current: value must have a minimum value of 16\n\n'],
    ['agent', 'enabled=2', "agent: invalid format - format error\nagent.enabled: type check ('boolean') failed - got '2'\n\n"],
  ])('qm set --%s %s', (param, value, line) => {
    const out = stderrOf('qm', ['set', '100', `--${param}`, value]);
    expect(out.startsWith(HEAD + line)).toBe(true);
    expect(out.endsWith(QM_SET)).toBe(true);
  });

  it.each([
    ['scsi0', 'local-zfs:0,import-from=/tmp/noble-server-cloudimg-amd64.img'],
    ['ide2', 'local-zfs:cloudinit'],
    ['net0', 'virtio,bridge=vmbr0'],
    ['net0', 'virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1'],
    ['ipconfig0', 'ip=10.0.0.111/24,gw=10.0.0.1'],
    ['ipconfig0', 'ip=dhcp'],
    ['cicustom', 'user=local:snippets/user-data-1001.yml,network=local:snippets/network-config-1001.yml'],
    ['boot', 'order=scsi0;net0'],
    ['agent', 'enabled=1'],
    ['serial0', 'socket'],
    ['vga', 'serial0'],
    ['startup', 'order=4,up=2'],
    ['hostpci0', '0000:01:00.0,pcie=1,x-vga=1'],
  ])('accepts qm set --%s %s', (param, value) => {
    expect(stderrOf('qm', ['set', '100', `--${param}`, value])).toBe('');
  });

  it('validates create parameters and prints the create usage line', () => {
    expect(stderrOf('pct', ['create', '100', 'local:vztmpl/x.tar.zst', '--net0', 'bridge=vmbr0'])).toBe(
      `${HEAD}net0: invalid format - format error\nnet0.name: property is missing and it is not optional\n\n${PCT_CREATE}`,
    );
    expect(stderrOf('qm', ['create', '100', '--cores', '0'])).toBe(`${HEAD}cores: value must have a minimum value of 1\nqm create <vmid> [OPTIONS]\n`);
    expect(stderrOf('qm', ['clone', '100', '99'])).toBe(`${HEAD}newid: invalid format - value does not look like a valid VM ID\n\nqm clone <vmid> <newid> [OPTIONS]\n`);
  });
});

describe('parse and print', () => {
  it('prints property strings with the default key first, required keys next, the rest sorted', () => {
    const fmt = {
      name: { type: 'string' },
      bridge: { type: 'string', optional: 1 },
      ip: { type: 'string', optional: 1 },
      hwaddr: { type: 'string', optional: 1 },
    };
    expect(printPropertyString({ ip: 'dhcp', bridge: 'vmbr0', name: 'eth0', hwaddr: 'BC:24:11:00:00:01' }, fmt)).toBe('name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp');
  });

  it('maps key aliases (virtio=<mac>) and prints them combined', () => {
    const parsed = parsePropertyString('pve-qm-ipconfig', 'ip=10.0.0.5/24,gw=10.0.0.1');
    expect(parsed).toEqual({ ip: '10.0.0.5/24', gw: '10.0.0.1' });
  });
});
