import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearFaults, readGuestConfig, setFaults, setTimeScale, zfsDatasets } from './src/index.js';
import type { EmulatedNodes } from '../harness/index.js';
import { oneNode, sshKey, type TestNode } from './emu-helpers.js';
import { writeGpuState } from './src/nvidia/state.js';

// qm: VMs built the way Phoenix builds them (cloud image import, cloud-init, template, clones).
let node: TestNode;
let handle: EmulatedNodes;
let image: string;

beforeAll(async () => {
  ({ node, handle } = await oneNode({ timeScale: 0.002 }));
  image = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'qm-img-')), 'noble.img');
  // A qcow2 header: magic, version 3, virtual size 3.5 GiB at offset 24.
  const hdr = Buffer.alloc(512);
  hdr.writeUInt32BE(0x514649fb, 0);
  hdr.writeUInt32BE(3, 4);
  hdr.writeBigUInt64BE(3584n * 1024n * 1024n, 24);
  fs.writeFileSync(image, hdr);
});
afterAll(async () => {
  await handle.teardown();
  fs.rmSync(path.dirname(image), { recursive: true, force: true });
});

describe('building a template VM', () => {
  it('creates a VM with generated MAC, smbios uuid, vmgenid, meta and boot order', async () => {
    const r = await node.run('qm', ['create', '9000', '--name', 'ubuntu-2404-cloud-template', '--memory', '2048', '--net0', 'virtio,bridge=vmbr0', '--serial0', 'socket', '--agent', '1', '--scsihw', 'virtio-scsi-pci', '--ipconfig0', 'ip=dhcp', '--cipassword', 'secret']);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const cfg = (await node.run('qm', ['config', '9000'])).stdout;
    expect(cfg).toMatch(/^agent: 1\nboot: order=net0\ncipassword: \*{10}\nipconfig0: ip=dhcp\nmemory: 2048\nmeta: creation-qemu=[\d.]+,ctime=\d+\nname: ubuntu-2404-cloud-template\nnet0: virtio=BC:24:11(:[0-9A-F]{2}){3},bridge=vmbr0\nscsihw: virtio-scsi-pci\nserial0: socket\nsmbios1: uuid=[0-9a-f-]{36}\nvmgenid: [0-9a-f-]{36}\n$/);
    expect(readGuestConfig(node.stateDir, 9000)?.props['cipassword']).toMatch(/^\$5\$/);
  });

  it('prefixes the duplicate-VMID error, unlike pct', async () => {
    expect(await node.run('qm', ['create', '9000'])).toMatchObject({ code: 255, stderr: `unable to create VM 9000 - VM 9000 already exists on node '${node.name}'\n` });
  });

  it('imports a disk with import-from and adds a cloud-init drive', async () => {
    const r = await node.run('qm', ['set', '9000', '--scsi0', `local-zfs:0,import-from=${image}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('transferred 0.0 B of 3.5 GiB (0.00%)\n');
    expect(r.stdout).toContain('transferred 3.5 GiB of 3.5 GiB (100.00%)\n');
    expect(r.stdout).toContain("scsi0: successfully created disk 'local-zfs:vm-9000-disk-0,size=3584M'\n");
    const ci = await node.run('qm', ['set', '9000', '--ide2', 'local-zfs:cloudinit', '--boot', 'order=scsi0']);
    expect(ci).toMatchObject({ code: 0, stdout: "ide2: successfully created disk 'local-zfs:vm-9000-cloudinit,media=cdrom'\n" });
    expect(await node.run('qm', ['set', '9000', '--ide0', 'local-zfs:cloudinit'])).toMatchObject({ code: 255, stderr: "ide0 - cloud-init drive is already attached at 'ide2'\n" });
    expect(await node.run('qm', ['set', '9000', '--scsi1', `local-zfs:0,import-from=/nonexistent.img`])).toMatchObject({ code: 255, stderr: "can't find file '/nonexistent.img'\n" });
    expect(zfsDatasets(node.stateDir)).toEqual(expect.arrayContaining(['rpool/data/vm-9000-disk-0', 'rpool/data/vm-9000-cloudinit']));
  });

  it('reads --sshkeys from a file and stores it URL-encoded, as the qm CLI does; keys are validated', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qm-keys-'));
    const keys = path.join(tmp, 'authorized_keys');
    const text = `${sshKey('admin@phoenix')}\n${sshKey('ops (laptop)')}\n`;
    fs.writeFileSync(keys, text);
    expect(await node.run('qm', ['set', '9000', '--sshkeys', keys])).toMatchObject({ code: 0, stderr: '' });
    // URI::Escape: everything but A-Za-z0-9-._~ is escaped, unlike encodeURIComponent ('(', ')').
    const stored = readGuestConfig(node.stateDir, 9000)?.props['sshkeys'] ?? '';
    expect(stored).toBe(encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`));
    expect(stored).toContain('%28laptop%29%0A');
    expect(decodeURIComponent(stored)).toBe(text);
    // qm create maps the option the same way: the file is read before anything else happens.
    expect(await node.run('qm', ['create', '9100', '--sshkeys', path.join(tmp, 'nope')])).toMatchObject({
      code: 255,
      stderr: `can't open '${path.join(tmp, 'nope')}' - No such file or directory\n`,
    });
    expect(readGuestConfig(node.stateDir, 9100)).toBeUndefined();
    fs.writeFileSync(keys, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx9c2VlZHNhbXBsZWtleWZvcnRlc3Rz admin@phoenix\n');
    expect(await node.run('qm', ['set', '9000', '--sshkeys', keys])).toMatchObject({ code: 255, stderr: 'SSH public key validation error\n' });
    expect(readGuestConfig(node.stateDir, 9000)?.props['sshkeys']).toBe(stored);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('resizes: grows, ignores the same size, refuses to shrink (exit 0: no exit hook)', async () => {
    expect((await node.run('qm', ['resize', '9000', 'scsi0', '32G'])).code).toBe(0);
    expect((await node.run('qm', ['config', '9000'])).stdout).toContain('scsi0: local-zfs:vm-9000-disk-0,size=32G\n');
    expect(await node.run('qm', ['resize', '9000', 'scsi0', '32G'])).toMatchObject({ code: 0, stderr: '' });
    expect(await node.run('qm', ['resize', '9000', 'scsi0', '8G'])).toMatchObject({ code: 0, stderr: 'shrinking disks is not supported\n' });
  });

  it('imports a disk as unused with qm importdisk and attaches it', async () => {
    const r = await node.run('qm', ['importdisk', '9000', image, 'local-zfs']);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(`importing disk '${image}' to VM 9000 ...\n`)).toBe(true);
    expect(r.stdout.endsWith("unused0: successfully imported disk 'local-zfs:vm-9000-disk-1'\n")).toBe(true);
    expect((await node.run('qm', ['set', '9000', '--scsi1', 'local-zfs:vm-9000-disk-1'])).code).toBe(0);
    const cfg = readGuestConfig(node.stateDir, 9000);
    expect(cfg?.props['unused0']).toBeUndefined();
    expect(cfg?.props['scsi1']).toBe('local-zfs:vm-9000-disk-1,size=3584M');
    expect((await node.run('qm', ['set', '9000', '--delete', 'scsi1'])).code).toBe(0);
    expect(readGuestConfig(node.stateDir, 9000)?.props['unused0']).toBe('local-zfs:vm-9000-disk-1');
    expect((await node.run('qm', ['set', '9000', '--delete', 'unused0'])).code).toBe(0);
    expect(zfsDatasets(node.stateDir)).not.toContain('rpool/data/vm-9000-disk-1');
  });
});

describe('running a VM', () => {
  it('lists VMs, stops a stopped VM without error, unlocks without a lock', async () => {
    expect((await node.run('qm', ['list'])).stdout).toBe(
      '      VMID NAME                 STATUS     MEM(MB)    BOOTDISK(GB) PID       \n' +
        '      9000 ubuntu-2404-cloud-template stopped    2048              32.00 0         \n',
    );
    expect(await node.run('qm', ['stop', '9000'])).toMatchObject({ code: 0, stderr: '' });
    expect(await node.run('qm', ['unlock', '9000'])).toMatchObject({ code: 0, stderr: '' });
    expect(await node.run('qm', ['reboot', '9000'])).toMatchObject({ code: 255, stderr: 'VM 9000 not running\n' });
  });

  it('answers agent pings only once the guest agent is up', async () => {
    expect(await node.run('qm', ['agent', '9000', 'ping'])).toMatchObject({ code: 255, stderr: 'VM 9000 is not running\n' });
    setTimeScale(node.stateDir, 0.1); // agent boots 15 s scaled: 1.5 s
    const start = await node.run('qm', ['start', '9000']);
    expect(start).toMatchObject({ code: 0, stdout: 'generating cloud-init ISO\n' });
    setTimeScale(node.stateDir, 0.002);
    expect(await node.run('qm', ['start', '9000'])).toMatchObject({ code: 255, stderr: 'VM 9000 already running\n' });
    expect(await node.run('qm', ['agent', '9000', 'ping'])).toMatchObject({ code: 255, stderr: 'QEMU guest agent is not running\n' });
    expect((await node.run('qm', ['status', '9000'])).stdout).toBe('status: running\n');
    await expect.poll(async () => node.run('qm', ['agent', '9000', 'ping']), { timeout: 5000, interval: 100 }).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('runs commands through the guest agent and prints PVE JSON', async () => {
    const r = await node.run('qm', ['guest', 'exec', '9000', '--', 'sh', '-c', 'echo hello; echo oops >&2; exit 4']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe('{\n   "err-data" : "oops\\n",\n   "exitcode" : 4,\n   "exited" : 1,\n   "out-data" : "hello\\n"\n}\n');
    expect(JSON.parse(r.stdout)).toEqual({ exitcode: 4, exited: 1, 'out-data': 'hello\n', 'err-data': 'oops\n' });
    expect(await node.run('qm', ['guest', 'exec', '9000'])).toMatchObject({ code: 255, stderr: 'command or input-data (or both) required\n' });
  });

  it('returns the pid when a command outlasts --timeout, as the CLI stops polling exec-status', async () => {
    const r = await node.run('qm', ['guest', 'exec', '9000', '--timeout', '1', '--', 'sleep', '5']);
    expect(r).toMatchObject({ code: 0, stderr: 'timeout reached, returning pid\n' });
    expect(r.stdout).toMatch(/^\{\n {3}"pid" : \d+\n\}\n$/);
    expect(await node.run('qm', ['guest', 'exec', '9000', '--synchronous', '0', '--timeout', '1', '--', 'true'])).toMatchObject({
      code: 255,
      stderr: "400 Parameter verification failed.\nsynchronous: needs to be set for 'timeout'\nqm guest exec <vmid> [<extra-args>] [OPTIONS]\n",
    });
  });

  it('tracks cloud-init changes until qm cloudinit update', async () => {
    expect((await node.run('qm', ['set', '9000', '--ipconfig0', 'ip=10.0.0.5/24,gw=10.0.0.1'])).code).toBe(0);
    expect((await node.run('qm', ['cloudinit', 'pending', '9000'])).stdout).toContain('cur ipconfig0: ip=dhcp\nnew ipconfig0: ip=10.0.0.5/24,gw=10.0.0.1\n');
    expect(await node.run('qm', ['cloudinit', 'update', '9000'])).toMatchObject({ code: 0, stdout: 'generating cloud-init ISO\n' });
    expect((await node.run('qm', ['cloudinit', 'pending', '9000'])).stdout).toContain('cur ipconfig0: ip=10.0.0.5/24,gw=10.0.0.1\n');
  });

  it('refuses to destroy a running VM and to template it', async () => {
    expect(await node.run('qm', ['destroy', '9000'])).toMatchObject({ code: 255, stderr: 'VM 9000 is running - destroy failed\n' });
    expect(await node.run('qm', ['template', '9000'])).toMatchObject({ code: 255, stderr: "you can't convert a VM to template if VM is running\n" });
    expect((await node.run('qm', ['shutdown', '9000'])).code).toBe(0);
    expect((await node.run('qm', ['status', '9000'])).stdout).toBe('status: stopped\n');
  });
});

describe('snapshots, templates and clones', () => {
  it('snapshots a VM and prints each drive', async () => {
    const r = await node.run('qm', ['snapshot', '9000', 'clean']);
    expect(r).toMatchObject({ code: 0, stdout: "snapshotting 'drive-scsi0' (local-zfs:vm-9000-disk-0)\n" });
    expect(await node.run('qm', ['snapshot', '9000', 'pending'])).toMatchObject({ code: 255, stderr: "unable to use snapshot name 'pending' (reserved name)\n" });
    expect(await node.run('qm', ['clone', '9000', '9001', '--snapname', 'clean', '--full'])).toMatchObject({
      code: 255,
      // drives are checked in key order; the cloud-init volume (ide2) is always copied and ZFS cannot copy from a snapshot
      stderr: "Full clone feature is not supported for a snapshot of 'local-zfs:vm-9000-cloudinit' (ide2)\n",
    });
    expect((await node.run('qm', ['rollback', '9000', 'clean'])).code).toBe(0);
    expect((await node.run('qm', ['delsnapshot', '9000', 'clean'])).code).toBe(0);
  });

  it('templates and clones linked (default) and full; the target holds lock: clone meanwhile', async () => {
    expect(await node.run('qm', ['template', '9000'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const t = readGuestConfig(node.stateDir, 9000);
    expect(t?.props['scsi0']).toBe('local-zfs:base-9000-disk-0,size=32G');
    expect(t?.props['ide2']).toBe('local-zfs:vm-9000-cloudinit,media=cdrom');
    expect(await node.run('qm', ['start', '9000'])).toMatchObject({ code: 255, stderr: "you can't start a vm if it's a template\n" });
    await setFaults(node.stateDir, [{ tool: 'qm', command: 'clone', kind: 'hang', at: 'midway' }]);
    const hung = node.spawn('qm', ['clone', '9000', '103']);
    await expect.poll(() => readGuestConfig(node.stateDir, 103)?.props['lock'], { timeout: 5000, interval: 50 }).toBe('clone');
    expect(readGuestConfig(node.stateDir, 9000)?.props['lock']).toBeUndefined();
    hung.kill('SIGKILL');
    await hung;
    await clearFaults(node.stateDir);
    expect(await node.run('qm', ['start', '103'])).toMatchObject({ code: 255, stderr: 'VM is locked (clone)\n' });
    const linked = await node.run('qm', ['clone', '9000', '101', '--name', 'web']);
    expect(linked.code).toBe(0);
    expect(linked.stdout).toContain('creating a clone of VM 9000 with ID 101\n');
    expect(linked.stdout).toContain('create linked clone of drive scsi0 (local-zfs:base-9000-disk-0)\n');
    expect(linked.stdout).toContain('create full clone of drive ide2 (local-zfs:vm-9000-cloudinit)\n');
    const c = readGuestConfig(node.stateDir, 101);
    expect(c?.props['scsi0']).toBe('local-zfs:base-9000-disk-0/vm-101-disk-0,size=32G');
    expect(c?.props['ide2']).toBe('local-zfs:vm-101-cloudinit,media=cdrom');
    expect(c?.props['name']).toBe('web');
    expect(c?.props['lock']).toBeUndefined();
    expect(c?.props['net0']).not.toBe(t?.props['net0']);
    const full = await node.run('qm', ['clone', '9000', '102', '--full']);
    expect(full.code).toBe(0);
    expect(readGuestConfig(node.stateDir, 102)?.props['name']).toBe('Copy-of-VM-ubuntu-2404-cloud-template');
    expect(readGuestConfig(node.stateDir, 102)?.props['scsi0']).toBe('local-zfs:vm-102-disk-0,size=32G');
    expect(await node.run('qm', ['destroy', '9000'])).toMatchObject({ code: 255, stderr: "base volume 'base-9000-disk-0' is still in use by linked cloned\n" });
    expect(await node.run('qm', ['clone', '9000', '101'])).toMatchObject({ code: 255, stderr: 'unable to create VM 101: config file already exists\n' });
  });

  it('destroys VMs and their disks', async () => {
    expect((await node.run('qm', ['destroy', '101', '--purge'])).stdout).toBe('purging VM 101 from related configurations..\n');
    expect(readGuestConfig(node.stateDir, 101)).toBeUndefined();
    expect(zfsDatasets(node.stateDir).filter((d) => /-101-/.test(d))).toEqual([]);
  });
});

describe('clones of snapshots and pending changes', () => {
  it('a clone from a snapshot gets the snapshot comment as its description', async () => {
    expect((await node.run('qm', ['create', '120', '--name', 'pend', '--memory', '512', '--cores', '1', '--cpu', 'host', '--description', 'the VM itself'])).code).toBe(0);
    expect(readGuestConfig(node.stateDir, 120)?.description).toBe('the VM itself\n');
    expect((await node.run('qm', ['snapshot', '120', 's1', '--description', 'snap comment'])).code).toBe(0);
    expect((await node.run('qm', ['snapshot', '120', 's2'])).code).toBe(0);
    expect((await node.run('qm', ['clone', '120', '121', '--snapname', 's1', '--full', '1'])).code).toBe(0);
    expect((await node.run('qm', ['config', '121'])).stdout).toMatch(/^description: snap comment%0A$/m);
    // A snapshot without a comment has no description, and neither has its clone.
    expect((await node.run('qm', ['clone', '120', '122', '--snapname', 's2', '--full', '1'])).code).toBe(0);
    expect(readGuestConfig(node.stateDir, 122)?.description).toBeUndefined();
  });

  it('applies pending changes when qm stops the VM, and at start what is still pending', async () => {
    expect((await node.run('qm', ['start', '120'])).code).toBe(0);
    expect(await node.run('qm', ['set', '120', '--cores', '2', '--delete', 'cpu'])).toMatchObject({ code: 0, stderr: '' });
    expect((await node.run('qm', ['pending', '120'])).stdout).toContain('cur cores: 1\nnew cores: 2\ndel cpu: host\n');
    expect(fs.readFileSync(path.join(node.stateDir, 'qemu-server/120.conf'), 'utf8')).toMatch(/\n\[PENDING\]\ncores: 2\ndelete: cpu\n/);
    expect((await node.run('qm', ['shutdown', '120'])).code).toBe(0);
    const conf = readGuestConfig(node.stateDir, 120);
    expect(conf?.props['cores']).toBe('2');
    expect(conf?.props['cpu']).toBeUndefined();
    expect(conf?.pending.props).toEqual({});
    expect(fs.readFileSync(path.join(node.stateDir, 'qemu-server/120.conf'), 'utf8')).not.toContain('[PENDING]');
    // A shutdown from inside the guest leaves the pending section to vm_start.
    const file = path.join(node.stateDir, 'qemu-server/120.conf');
    const text = fs.readFileSync(file, 'utf8');
    const snap = text.indexOf('\n[s1]');
    fs.writeFileSync(file, `${text.slice(0, snap)}\n[PENDING]\ncores: 4\n${text.slice(snap)}`);
    expect((await node.run('qm', ['start', '120'])).code).toBe(0);
    expect(readGuestConfig(node.stateDir, 120)?.props['cores']).toBe('4');
    expect(fs.readFileSync(file, 'utf8')).not.toContain('[PENDING]');
  });
});

describe('host PCI passthrough (hostpciN)', () => {
  // The node's PCI devices are its GPUs: 00000000:00:06.0 and 00000000:00:07.0 in nvidia-smi's
  // notation, 0000:00:06.0 and 0000:00:07.0 in sysfs'.
  beforeAll(async () => {
    await writeGpuState(node.stateDir, [{}, {}]);
  });

  it('accepts any valid PCI id at creation; qm start refuses one the node does not have', async () => {
    expect(await node.run('qm', ['create', '9201', '--memory', '1024', '--hostpci0', '0000:99:00.0,pcie=0'])).toMatchObject({ code: 0, stderr: '' });
    expect(readGuestConfig(node.stateDir, 9201)?.props['hostpci0']).toBe('0000:99:00.0,pcie=0');
    expect(await node.run('qm', ['start', '9201'])).toMatchObject({ code: 255, stderr: "no PCI device found for '0000:99:00.0'\n" });
    expect((await node.run('qm', ['status', '9201'])).stdout).toBe('status: stopped\n');
    expect(await node.run('qm', ['set', '9201', '--hostpci0', 'not-a-pci-id'])).toMatchObject({ code: 255 });
  });

  it('starts a VM with a GPU of the node, and a second running VM cannot hold the same device', async () => {
    expect((await node.run('qm', ['create', '9202', '--memory', '1024', '--hostpci0', '0000:00:06.0'])).code).toBe(0);
    expect((await node.run('qm', ['create', '9203', '--memory', '1024'])).code).toBe(0);
    // The short form (bus:dev, all functions, no domain) names the same device.
    expect((await node.run('qm', ['set', '9203', '--hostpci0', '00:06'])).code).toBe(0);
    expect(await node.run('qm', ['start', '9202'])).toMatchObject({ code: 0, stderr: '' });
    expect((await node.run('qm', ['status', '9202'])).stdout).toBe('status: running\n');
    expect(await node.run('qm', ['start', '9203'])).toMatchObject({ code: 255, stderr: "PCI device '0000:00:06.0' already in use by VMID '9202'\n" });
    expect((await node.run('qm', ['status', '9203'])).stdout).toBe('status: stopped\n');
    // The other GPU is free; once 9202 stops, its GPU is free again.
    expect((await node.run('qm', ['set', '9203', '--hostpci1', '0000:00:07.0'])).code).toBe(0);
    expect((await node.run('qm', ['stop', '9202'])).code).toBe(0);
    expect(await node.run('qm', ['start', '9203'])).toMatchObject({ code: 0, stderr: '' });
    expect(await node.run('qm', ['start', '9202'])).toMatchObject({ code: 255, stderr: "PCI device '0000:00:06.0' already in use by VMID '9203'\n" });
    expect((await node.run('qm', ['stop', '9203'])).code).toBe(0);
  });

  it('refuses pcie=1 without a q35 machine at start, as qemu-server does', async () => {
    expect((await node.run('qm', ['create', '9204', '--memory', '1024', '--hostpci0', '0000:00:07.0,pcie=1'])).code).toBe(0);
    expect(await node.run('qm', ['start', '9204'])).toMatchObject({ code: 255, stderr: 'q35 machine model is not enabled\n' });
    expect((await node.run('qm', ['status', '9204'])).stdout).toBe('status: stopped\n');
    expect((await node.run('qm', ['set', '9204', '--machine', 'q35'])).code).toBe(0);
    expect(await node.run('qm', ['start', '9204'])).toMatchObject({ code: 0, stderr: '' });
    // Bound to vfio-pci at the start (and left there): the host's nvidia-smi no longer lists it.
    const listed = await node.run('nvidia-smi', ['--query-gpu=pci.bus_id', '--format=csv,noheader']);
    expect(listed.stdout).not.toMatch(/00:07\.0/);
    expect((await node.run('qm', ['stop', '9204'])).code).toBe(0);
    expect((await node.run('nvidia-smi', ['--query-gpu=pci.bus_id', '--format=csv,noheader'])).stdout).not.toMatch(/00:07\.0/);
  });
});

describe('an installer VM (blank disks, an ISO on ide2)', () => {
  it('attaches an ISO of the storage with its size; a missing ISO fails the create with qemu-server\'s error', async () => {
    const missing = await node.run('qm', ['create', '9300', '--scsihw', 'virtio-scsi-single', '--scsi0', 'local-zfs:8,iothread=1,ssd=1', '--ide2', 'local:iso/absent.iso,media=cdrom']);
    expect(missing).toMatchObject({ code: 255, stderr: "unable to create VM 9300 - volume 'local:iso/absent.iso' does not exist\n" });
    // The disk allocated before the failure is freed again, and no config is left.
    expect(zfsDatasets(node.stateDir).filter((d) => d.includes('vm-9300-'))).toEqual([]);
    expect(readGuestConfig(node.stateDir, 9300)).toBeUndefined();

    const isoPath = (await node.run('pvesm', ['path', 'local:iso/agent.x86_64.iso'])).stdout.trim();
    fs.mkdirSync(path.dirname(isoPath), { recursive: true });
    fs.writeFileSync(isoPath, Buffer.alloc(3 * 1024 * 1024));
    const r = await node.run('qm', ['create', '9300', '--scsihw', 'virtio-scsi-single', '--scsi0', 'local-zfs:8,iothread=1,ssd=1,wwn=0x5000c50055f2f437', '--ide2', 'local:iso/agent.x86_64.iso,media=cdrom', '--boot', 'order=scsi0;ide2']);
    expect(r.code).toBe(0);
    const props = readGuestConfig(node.stateDir, 9300)?.props ?? {};
    expect(props['ide2']).toBe('local:iso/agent.x86_64.iso,media=cdrom,size=3M');
    expect(props['scsi0']).toBe('local-zfs:vm-9300-disk-0,iothread=1,size=8G,ssd=1,wwn=0x5000c50055f2f437');
    expect(await node.run('qm', ['set', '9300', '--scsi1', 'local-zfs:1,wwn=5000c50055f2f437'])).toMatchObject({ code: 255 });
  });
});
