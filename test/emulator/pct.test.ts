import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGuestConfig, zfsDatasets } from './src/index.js';
import type { EmulatedNodes } from '../harness/index.js';
import { TEMPLATE, TEMPLATE_VOLID, createCt, oneNode, sshKey, type TestNode } from './emu-helpers.js';

// pct: the container life cycle with PVE's output formats, error texts and exit codes.
let node: TestNode;
let handle: EmulatedNodes;

let keysFile: string;

beforeAll(async () => {
  ({ node, handle } = await oneNode({ timeScale: 0.002 }));
  keysFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pct-keys-')), 'keys.pub');
  fs.writeFileSync(keysFile, `${sshKey('admin@phoenix')}\n`);
});
afterAll(async () => {
  await handle.teardown();
  fs.rmSync(path.dirname(keysFile), { recursive: true, force: true });
});

describe('pct create / list / config / status', () => {
  it('creates a container with PVE defaults and prints task output', async () => {
    const r = await node.run('pct', ['create', '100', TEMPLATE_VOLID, '--rootfs', 'local-zfs:8', '--net0', 'name=eth0,bridge=vmbr0,ip=10.0.0.5/24,gw=10.0.0.1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`extracting archive '${path.join(node.stateDir, 'storage/local/template/cache', TEMPLATE)}'\n`);
    expect(r.stdout).toContain('Detected container architecture: amd64\n');
    expect(r.stderr).toBe('');
    const cfg = (await node.run('pct', ['config', '100'])).stdout;
    expect(cfg).toMatch(
      /^arch: amd64\nhostname: CT100\nmemory: 512\nnet0: name=eth0,bridge=vmbr0,gw=10\.0\.0\.1,hwaddr=BC:24:11(:[0-9A-F]{2}){3},ip=10\.0\.0\.5\/24,type=veth\nostype: debian\nrootfs: local-zfs:subvol-100-disk-0,size=8G\nswap: 512\nunprivileged: 1\n$/,
    );
    expect(zfsDatasets(node.stateDir)).toContain('rpool/data/subvol-100-disk-0');
    expect(readGuestConfig(node.stateDir, 100)?.props['lock']).toBeUndefined();
  });

  it('refuses a taken VMID before any task', async () => {
    const r = await node.run('pct', ['create', '100', TEMPLATE_VOLID, '--rootfs', 'local-zfs:8']);
    expect(r).toMatchObject({ code: 255, stdout: '', stderr: `CT 100 already exists on node '${node.name}'\n` });
  });

  it('needs rootdir content on the default storage', async () => {
    const r = await node.run('pct', ['create', '101', TEMPLATE_VOLID]);
    expect(r.code).toBe(255);
    expect(r.stderr).toBe("400 Parameter verification failed.\nstorage: storage 'local' does not support container directories\npct create <vmid> <ostemplate> [OPTIONS]\n");
  });

  it('fails inside the task when the template is missing and cleans up', async () => {
    const r = await node.run('pct', ['create', '102', 'local:vztmpl/nope.tar.zst', '--storage', 'local-zfs']);
    expect(r.code).toBe(255);
    expect(r.stderr).toBe(`unable to create CT 102 - failed to open '${path.join(node.stateDir, 'storage/local/template/cache/nope.tar.zst')}': No such file or directory\n`);
    expect(readGuestConfig(node.stateDir, 102)).toBeUndefined();
    expect(zfsDatasets(node.stateDir)).not.toContain('rpool/data/subvol-102-disk-0');
  });

  it('rejects an ostemplate of the wrong content type', async () => {
    const r = await node.run('pct', ['create', '103', 'local:iso/x.iso', '--storage', 'local-zfs']);
    expect(r).toMatchObject({ code: 255, stderr: "unable to use volume local:iso/x.iso - content type needs to be 'vztmpl'\n" });
  });

  it('lists containers in fixed-width columns with trailing spaces', async () => {
    await createCt(node, 105, ['--storage', 'local-zfs', '--ssh-public-keys', keysFile]);
    const r = await node.run('pct', ['list']);
    expect(r.stdout).toBe(
      'VMID       Status     Lock         Name                \n' +
        '100        stopped                 CT100               \n' +
        '105        stopped                 ct105               \n',
    );
  });

  it('prints status, verbose status in sorted order without cpu', async () => {
    expect((await node.run('pct', ['status', '100'])).stdout).toBe('status: stopped\n');
    const v = (await node.run('pct', ['status', '100', '--verbose'])).stdout.split('\n').filter(Boolean);
    expect(v).toContain('maxdisk: 8589934592');
    expect(v).toContain('maxmem: 536870912');
    expect(v).toContain('type: lxc');
    expect(v.some((l) => l.startsWith('cpu:'))).toBe(false);
    expect([...v].sort()).toEqual(v);
  });
});

describe('pct create --ssh-public-keys', () => {
  it('reads the keys from the file the option names, validates them and writes root\'s authorized_keys', async () => {
    // CT 105 was created with --ssh-public-keys (above).
    const ak = path.join(node.stateDir, 'guests/105/rootfs/root/.ssh/authorized_keys');
    expect(fs.readFileSync(ak, 'utf8')).toBe(`# --- BEGIN PVE ---\n${sshKey('admin@phoenix')}\n# --- END PVE ---\n`);
    expect(fs.statSync(ak).mode & 0o777).toBe(0o700);
    expect(readGuestConfig(node.stateDir, 105)?.props['ssh-public-keys']).toBeUndefined();
    const missing = path.join(path.dirname(keysFile), 'nope');
    expect(await node.run('pct', ['create', '107', TEMPLATE_VOLID, '--rootfs', 'local-zfs:8', '--ssh-public-keys', missing])).toMatchObject({
      code: 255,
      stderr: `can't open '${missing}' - No such file or directory\n`,
    });
    // A key ssh-keygen cannot read (truncated blob) fails validation before anything is created.
    const bad = path.join(path.dirname(keysFile), 'bad.pub');
    fs.writeFileSync(bad, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx9c2VlZHNhbXBsZWtleWZvcnRlc3Rz admin@phoenix\n');
    expect(await node.run('pct', ['create', '107', TEMPLATE_VOLID, '--rootfs', 'local-zfs:8', '--ssh-public-keys', bad])).toMatchObject({
      code: 255,
      stderr: 'SSH public key validation error\n',
    });
    expect(readGuestConfig(node.stateDir, 107)).toBeUndefined();
  });
});

describe('pct set / resize / unlock', () => {
  it('sets and deletes options; description is escaped in pct config', async () => {
    expect((await node.run('pct', ['set', '105', '--cores', '2', '--features', 'nesting=1,keyctl=1', '--description', 'line one\nline: two'])).code).toBe(0);
    let cfg = (await node.run('pct', ['config', '105'])).stdout;
    expect(cfg).toContain('cores: 2\n');
    expect(cfg).toContain('description: line one%0Aline%3A two%0A\n');
    expect(cfg).toContain('features: nesting=1,keyctl=1\n');
    expect(fs.readFileSync(path.join(node.stateDir, 'lxc/105.conf'), 'utf8')).toMatch(/^#line one\n#line%3A two\narch: amd64\n/);
    const r = await node.run('pct', ['set', '105', '--delete', 'cores,tags']);
    expect(r).toMatchObject({ code: 0, stderr: "cannot delete 'tags' - not set in current configuration!\n" });
    cfg = (await node.run('pct', ['config', '105'])).stdout;
    expect(cfg).not.toContain('cores:');
  });

  it('refuses read-only and required options', async () => {
    expect(await node.run('pct', ['set', '105', '--unprivileged', '0'])).toMatchObject({ code: 255, stderr: "unable to modify read-only option: 'unprivileged'\n" });
    expect(await node.run('pct', ['set', '105', '--delete', 'memory'])).toMatchObject({ code: 255, stderr: "unable to delete required option 'memory'\n" });
  });

  it('adds a mount point volume', async () => {
    expect((await node.run('pct', ['set', '105', '--mp0', 'local-zfs:2,mp=/data'])).code).toBe(0);
    expect((await node.run('pct', ['config', '105'])).stdout).toContain('mp0: local-zfs:subvol-105-disk-1,mp=/data,size=2G\n');
  });

  it('resizes a disk: grow works, same size and shrink fail (exit 255 before the task)', async () => {
    expect((await node.run('pct', ['resize', '105', 'rootfs', '+2G'])).code).toBe(0);
    expect((await node.run('pct', ['config', '105'])).stdout).toContain('rootfs: local-zfs:subvol-105-disk-0,size=10G\n');
    expect(await node.run('pct', ['resize', '105', 'rootfs', '10G'])).toMatchObject({ code: 255, stderr: 'disk is already at specified size\n' });
    expect(await node.run('pct', ['resize', '105', 'rootfs', '4G'])).toMatchObject({ code: 255, stderr: 'unable to shrink disk size\n' });
  });

  it('locks block changes; pct unlock removes a lock and fails without one', async () => {
    const conf = path.join(node.stateDir, 'lxc/105.conf');
    fs.writeFileSync(conf, `${fs.readFileSync(conf, 'utf8')}lock: backup\n`);
    expect(await node.run('pct', ['set', '105', '--cores', '1'])).toMatchObject({ code: 255, stderr: 'CT is locked (backup)\n' });
    expect((await node.run('pct', ['list'])).stdout).toContain('105        stopped    backup       ct105');
    expect(await node.run('pct', ['unlock', '105'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await node.run('pct', ['unlock', '105'])).toMatchObject({ code: 255, stderr: 'no lock found trying to remove any lock\n' });
  });
});

describe('pct start / stop / exec / push / pull / destroy', () => {
  it('runs commands only in a running container', async () => {
    expect(await node.run('pct', ['exec', '100', '--', 'true'])).toMatchObject({ code: 255, stderr: "container '100' not running!\n" });
    expect(await node.run('pct', ['stop', '100'])).toMatchObject({ code: 255, stderr: 'CT 100 not running\n' });
    expect(await node.run('pct', ['start', '100'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await node.run('pct', ['start', '100'])).toMatchObject({ code: 255, stderr: 'CT 100 already running\n' });
    expect((await node.run('pct', ['status', '100'])).stdout).toBe('status: running\n');
    const e = await node.run('pct', ['exec', '100', '--', 'sh', '-c', 'cat /etc/hostname; echo err >&2; exit 3']);
    expect(e).toMatchObject({ code: 3, stdout: 'CT100\n', stderr: 'err\n' });
  });

  it('keeps non-hotpluggable changes of a running CT pending until the next start', async () => {
    expect((await node.run('pct', ['set', '100', '--features', 'nesting=1', '--cores', '2'])).code).toBe(0);
    expect((await node.run('pct', ['config', '100'])).stdout).toContain('features: nesting=1\n');
    const current = (await node.run('pct', ['config', '100', '--current'])).stdout;
    expect(current).not.toContain('features:');
    expect(current).toContain('cores: 2\n');
    expect((await node.run('pct', ['pending', '100'])).stdout).toContain('new features: nesting=1\n');
    expect(fs.readFileSync(path.join(node.stateDir, 'lxc/100.conf'), 'utf8')).toMatch(/\n\[pve:pending\]\nfeatures: nesting=1\n/);
  });

  it('applies pending changes when the CT stops (post-stop hook), deletions first; a dropped mount point becomes unused', async () => {
    expect((await node.run('pct', ['set', '100', '--dev0', '/dev/null', '--mp0', 'local-zfs:1,mp=/data'])).code).toBe(0);
    const hot = readGuestConfig(node.stateDir, 100);
    expect(hot?.props['dev0']).toBe('/dev/null');
    expect(hot?.props['mp0']).toBe('local-zfs:subvol-100-disk-1,mp=/data,size=1G');
    expect((await node.run('pct', ['set', '100', '--delete', 'dev0,mp0'])).code).toBe(0);
    expect(fs.readFileSync(path.join(node.stateDir, 'lxc/100.conf'), 'utf8')).toMatch(/\n\[pve:pending\]\ndelete: dev0,mp0\nfeatures: nesting=1\n/);
    expect(await node.run('pct', ['shutdown', '100'])).toMatchObject({ code: 0, stderr: '' });
    const conf = readGuestConfig(node.stateDir, 100);
    expect(conf?.props['dev0']).toBeUndefined();
    expect(conf?.props['mp0']).toBeUndefined();
    expect(conf?.props['unused0']).toBe('local-zfs:subvol-100-disk-1');
    expect(conf?.props['features']).toBe('nesting=1');
    expect(conf?.pending.props).toEqual({});
    expect(fs.readFileSync(path.join(node.stateDir, 'lxc/100.conf'), 'utf8')).not.toContain('[pve:pending]');
    // What is still pending on a stopped CT (a hook that could not apply it) is applied by vm_start.
    fs.appendFileSync(path.join(node.stateDir, 'lxc/100.conf'), '\n[pve:pending]\ncores: 3\ndelete: unused0\n');
    expect((await node.run('pct', ['pending', '100'])).stdout).toContain('cur cores: 2\nnew cores: 3\n');
    expect(await node.run('pct', ['start', '100'])).toMatchObject({ code: 0, stderr: '' });
    const started = readGuestConfig(node.stateDir, 100);
    expect(started?.props['cores']).toBe('3');
    expect(started?.props['unused0']).toBeUndefined();
    expect(started?.pending.props).toEqual({});
    expect(zfsDatasets(node.stateDir)).not.toContain('rpool/data/subvol-100-disk-1');
  });

  it('pushes and pulls files', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pct-push-'));
    fs.writeFileSync(path.join(tmp, 'in.txt'), 'payload\n');
    expect((await node.run('pct', ['push', '100', path.join(tmp, 'in.txt'), '/root/in.txt', '--perms', '600'])).code).toBe(0);
    expect((await node.run('pct', ['exec', '100', '--', 'cat', '/root/in.txt'])).stdout).toBe('payload\n');
    expect((await node.run('pct', ['pull', '100', '/root/in.txt', path.join(tmp, 'out.txt')])).code).toBe(0);
    expect(fs.readFileSync(path.join(tmp, 'out.txt'), 'utf8')).toBe('payload\n');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('refuses to destroy a running container unless forced', async () => {
    expect(await node.run('pct', ['destroy', '100'])).toMatchObject({ code: 255, stderr: 'unable to destroy CT 100 - container is running\n' });
    expect(await node.run('pct', ['set', '100', '--protection', '1'])).toMatchObject({ code: 0 });
    expect(await node.run('pct', ['destroy', '100', '--force'])).toMatchObject({ code: 255, stderr: "can't remove CT 100 - protection mode enabled\n" });
    expect((await node.run('pct', ['set', '100', '--protection', '0'])).code).toBe(0);
    const r = await node.run('pct', ['destroy', '100', '--force', '--purge']);
    expect(r).toMatchObject({ code: 0, stdout: 'forced to stop CT 100 before destroying!\npurging CT 100 from related configurations..\n' });
    expect(readGuestConfig(node.stateDir, 100)).toBeUndefined();
    expect(zfsDatasets(node.stateDir).filter((d) => d.includes('-100-'))).toEqual([]);
  });
});

describe('snapshots, templates and clones', () => {
  it('takes snapshots and prints the snapshot tree', async () => {
    await createCt(node, 110, ['--storage', 'local-zfs']);
    expect(await node.run('pct', ['snapshot', '110', 'first', '--description', 'base\nmore'])).toMatchObject({ code: 0, stderr: '' });
    expect((await node.run('pct', ['snapshot', '110', 'second'])).code).toBe(0);
    expect(await node.run('pct', ['snapshot', '110', 'second'])).toMatchObject({ code: 255, stderr: "snapshot name 'second' already used\n" });
    expect(await node.run('pct', ['snapshot', '110', 'current'])).toMatchObject({ code: 255, stderr: "unable to use snapshot name 'current' (reserved name)\n" });
    const tree = (await node.run('pct', ['listsnapshot', '110'])).stdout;
    const t = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`;
    expect(tree).toMatch(new RegExp(`^\`-> first {23}${t} {5}base\n \`-> second {21}${t} {5}no-description\n  \`-> current {19} {24}You are here!\n$`));
    const cfg = readGuestConfig(node.stateDir, 110);
    expect(cfg?.props['parent']).toBe('second');
    expect(cfg?.snapshots['first']?.props['snaptime']).toMatch(/^\d+$/);
    expect((await node.run('pct', ['config', '110', '--snapshot', 'first'])).stdout).toMatch(/\nsnaptime: \d+\n/);
    expect(zfsDatasets(node.stateDir)).toContain('rpool/data/subvol-110-disk-0@first');
  });

  it('rolls back only to the newest ZFS snapshot and deletes snapshots', async () => {
    expect(await node.run('pct', ['rollback', '110', 'first'])).toMatchObject({
      code: 255,
      stderr: "can't rollback, 'first' is not most recent snapshot on 'local-zfs:subvol-110-disk-0'\n",
    });
    expect((await node.run('pct', ['rollback', '110', 'second'])).code).toBe(0);
    expect(await node.run('pct', ['delsnapshot', '110', 'nope'])).toMatchObject({ code: 255, stderr: "snapshot 'nope' does not exist\n" });
    expect((await node.run('pct', ['delsnapshot', '110', 'second'])).code).toBe(0);
    expect(readGuestConfig(node.stateDir, 110)?.props['parent']).toBe('first');
    expect(await node.run('pct', ['template', '110'])).toMatchObject({ code: 255, stderr: 'unable to create template, because CT contains snapshots\n' });
    expect((await node.run('pct', ['delsnapshot', '110', 'first'])).code).toBe(0);
  });

  it('clones: full from a running CT needs a snapshot; linked needs a template', async () => {
    expect(await node.run('pct', ['clone', '110', '111', '--full', '0'])).toMatchObject({
      code: 255,
      stderr: "Linked clone feature for 'local-zfs:subvol-110-disk-0' is not available\n",
    });
    expect(readGuestConfig(node.stateDir, 110)?.props['lock']).toBeUndefined();
    expect(readGuestConfig(node.stateDir, 111)).toBeUndefined();
    expect((await node.run('pct', ['start', '110'])).code).toBe(0);
    expect(await node.run('pct', ['clone', '110', '111'])).toMatchObject({ code: 255, stderr: 'Full clone of a running container is only possible from a snapshot\n' });
    expect((await node.run('pct', ['set', '110', '--description', 'the CT itself'])).code).toBe(0);
    expect((await node.run('pct', ['snapshot', '110', 'golden'])).code).toBe(0);
    const c = await node.run('pct', ['clone', '110', '111', '--snapname', 'golden', '--hostname', 'copy1']);
    expect(c).toMatchObject({ code: 0, stderr: '' });
    expect(c.stdout).toBe('creating a clone of container 110 with ID 111\ncreate full clone of mountpoint rootfs (local-zfs:subvol-110-disk-0)\n');
    const child = readGuestConfig(node.stateDir, 111);
    expect(child?.props['hostname']).toBe('copy1');
    expect(child?.props['lock']).toBeUndefined();
    expect(child?.snapshots).toEqual({});
    // The snapshot was taken without a comment: no description (the CT's own is not copied).
    expect(child?.description).toBeUndefined();
    expect(child?.props['rootfs']).toBe('local-zfs:subvol-111-disk-0,size=8G');
    expect(await node.run('pct', ['clone', '110', '111', '--snapname', 'golden'])).toMatchObject({ code: 255, stderr: `CT 111 already exists on node '${node.name}'\n` });
    expect(readGuestConfig(node.stateDir, 110)?.props['lock']).toBeUndefined();
  });

  it('a clone from a snapshot gets the snapshot comment as its description, not the CT description', async () => {
    expect((await node.run('pct', ['snapshot', '110', 's1', '--description', 'snap comment'])).code).toBe(0);
    expect(readGuestConfig(node.stateDir, 110)?.snapshots['s1']?.description).toBe('snap comment\n');
    expect((await node.run('pct', ['clone', '110', '113', '--snapname', 's1', '--full', '1'])).code).toBe(0);
    expect((await node.run('pct', ['config', '113'])).stdout).toMatch(/^description: snap comment%0A$/m);
  });

  it('converts to a template and makes linked clones of it', async () => {
    expect(await node.run('pct', ['template', '111'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await node.run('pct', ['template', '111'])).toMatchObject({ code: 255, stderr: "you can't convert a template to a template\n" });
    const t = readGuestConfig(node.stateDir, 111);
    expect(t?.props['template']).toBe('1');
    expect(t?.props['rootfs']).toBe('local-zfs:basevol-111-disk-0,size=8G');
    expect(zfsDatasets(node.stateDir)).toContain('rpool/data/basevol-111-disk-0@__base__');
    expect(await node.run('pct', ['start', '111'])).toMatchObject({ code: 255, stderr: "you can't start a CT if it's a template\n" });
    expect(await node.run('pct', ['clone', '111', '112', '--storage', 'local-zfs'])).toMatchObject({ code: 255, stderr: "parameter 'storage' not allowed for linked clones\n" });
    const c = await node.run('pct', ['clone', '111', '112']);
    expect(c).toMatchObject({ code: 0, stdout: 'creating a clone of container 111 with ID 112\ncreate linked clone of mount point rootfs (local-zfs:basevol-111-disk-0)\n' });
    expect(readGuestConfig(node.stateDir, 112)?.props['rootfs']).toBe('local-zfs:basevol-111-disk-0/subvol-112-disk-0,size=8G');
    const d = await node.run('pct', ['destroy', '111']);
    expect(d).toMatchObject({ code: 255, stderr: "base volume 'basevol-111-disk-0' is still in use by linked clones\n" });
  });
});
