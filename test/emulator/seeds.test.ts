import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorText } from './src/core/errors.js';
import { validateCommand } from './src/core/pve-cli.js';
import { registerQemuFormats } from './src/qm/qemu-config.js';
import type { EmulatedNodes } from '../harness/index.js';
import { oneNode, type TestNode } from './emu-helpers.js';

// The pct/qm parameters Phoenix derives from its seed configs (seeds.md §2.5) must be accepted,
// and broken variants rejected with Proxmox's 400 lines.
registerQemuFormats();

const SEEDS = fileURLToPath(new URL('../../examples/phoenix/', import.meta.url));

interface LxcSeed {
  name: string;
  start_at_boot?: boolean;
  boot_order?: number;
  boot_delay?: number;
  memory_mb: number;
  cores: number;
  template?: string;
  storage_pool: string;
  storage_size_gb: number;
  network_config: { name: string; bridge: string; ip: string; gw: string; nameservers?: string };
  mac_address?: string;
  unprivileged?: boolean;
  clone_from_ctid?: string;
  template_snapshot_name?: string;
  pct_options?: string[];
  volumes?: Array<{ pool: string; size_gb: number; mount_point: string }>;
  zfs_volumes?: Array<{ pool: string; size_gb: number; mount_point: string }>;
  mount_points?: Array<{ host_path: string; container_path: string }>;
}

interface VmSeed {
  vmid: number;
  name: string;
  clone_from_vmid?: number;
  cores?: number;
  memory_mb?: number;
  disk_size_gb?: number;
  start_at_boot?: boolean;
  boot_order?: number;
  boot_delay?: number;
  is_template?: boolean;
  template_image?: string;
  storage_pool?: string;
  network_bridge?: string;
  network_config?: { ip?: string; gw?: string; nameserver?: string; nameservers?: string[] };
  user_config?: { username?: string };
}

function loadLxc(file: string): Array<[string, LxcSeed]> {
  const d = JSON.parse(fs.readFileSync(path.join(SEEDS, file), 'utf8')) as { lxc_configs: Record<string, LxcSeed> };
  return Object.entries(d.lxc_configs);
}

function loadVms(file: string): { defaults: VmSeed & { storage_pool: string; network_bridge: string }; vms: VmSeed[] } {
  const d = JSON.parse(fs.readFileSync(path.join(SEEDS, file), 'utf8')) as { vm_defaults: VmSeed & { storage_pool: string; network_bridge: string }; vms: VmSeed[] };
  return { defaults: d.vm_defaults, vms: d.vms };
}

const bool = (b: boolean | undefined): string => (b ? '1' : '0');

function net0(c: LxcSeed): string {
  const n = c.network_config;
  return `name=${n.name},bridge=${n.bridge},ip=${n.ip},gw=${n.gw}${c.mac_address ? `,hwaddr=${c.mac_address}` : ''}`;
}

/** The pct command lines Phoenix runs for one container (create or clone, then the set calls). */
function lxcCommands(id: string, c: LxcSeed, all: Record<string, LxcSeed>): string[][] {
  const cmds: string[][] = [];
  if (c.clone_from_ctid) {
    const snap = all[c.clone_from_ctid]?.template_snapshot_name ?? 'final-form';
    cmds.push(['clone', c.clone_from_ctid, id, '--snapname', snap, '--hostname', c.name, '--storage', c.storage_pool]);
  } else {
    const create = ['create', id, c.template ?? '', '--hostname', c.name, '--memory', String(c.memory_mb), '--cores', String(c.cores)];
    create.push('--storage', c.storage_pool, '--rootfs', `${c.storage_pool}:${c.storage_size_gb}`, '--net0', net0(c), '--unprivileged', bool(c.unprivileged));
    if (c.network_config.nameservers) create.push('--nameserver', c.network_config.nameservers);
    cmds.push(create);
  }
  cmds.push(['set', id, '--onboot', bool(c.start_at_boot)]);
  cmds.push(['set', id, '--startup', `order=${c.boot_order ?? 0},up=${c.boot_delay ?? 0},down=${c.boot_delay ?? 0}`]);
  cmds.push(['set', id, '--memory', String(c.memory_mb), '--cores', String(c.cores)]);
  cmds.push(['set', id, '--net0', net0(c)]);
  if (c.pct_options?.length) cmds.push(['set', id, '--features', c.pct_options.join(',')]);
  if (c.network_config.nameservers) cmds.push(['set', id, '--nameserver', c.network_config.nameservers]);
  let mp = 0;
  for (const v of [...(c.volumes ?? []), ...(c.zfs_volumes ?? [])]) cmds.push(['set', id, `--mp${mp++}`, `${v.pool}:${v.size_gb},mp=${v.mount_point}`]);
  for (const m of c.mount_points ?? []) cmds.push(['set', id, `--mp${mp++}`, `${m.host_path},mp=${m.container_path}`]);
  cmds.push(['resize', id, 'rootfs', `${c.storage_size_gb}G`]);
  if (c.template_snapshot_name) cmds.push(['snapshot', id, c.template_snapshot_name]);
  return cmds;
}

/** The qm command lines of the E2/E4 VM pipelines (seeds.md §2.3). */
function vmCommands(v: VmSeed, d: { storage_pool: string; network_bridge: string; cores?: number; memory_mb?: number; disk_size_gb?: number }): string[][] {
  const id = String(v.vmid);
  const pool = v.storage_pool ?? d.storage_pool;
  const br = v.network_bridge ?? d.network_bridge;
  const cmds: string[][] = [];
  if (v.clone_from_vmid) {
    cmds.push(['clone', String(v.clone_from_vmid), id, '--name', v.name, '--full']);
    cmds.push(['resize', id, 'scsi0', `${v.disk_size_gb ?? d.disk_size_gb ?? 32}G`]);
  } else {
    cmds.push(['create', id, '--name', v.name, '--memory', '2048', '--net0', `virtio,bridge=${br}`, '--serial0', 'socket', '--agent', '1', '--scsihw', 'virtio-scsi-pci', '--ciuser', v.user_config?.username ?? 'phoenix_user', '--searchdomain', 'phoenix.local', '--ipconfig0', 'ip=dhcp']);
    cmds.push(['set', id, '--scsi0', `${pool}:0,import-from=/tmp/${v.template_image ?? 'noble-server-cloudimg-amd64.img'}`]);
    cmds.push(['set', id, '--ide2', `${pool}:cloudinit`]);
    cmds.push(['set', id, '--boot', 'c', '--bootdisk', 'scsi0']);
    cmds.push(['set', id, '--serial0', 'socket', '--vga', 'serial0']);
    cmds.push(['resize', id, 'scsi0', '32G']);
  }
  cmds.push(['set', id, '--cores', String(v.cores ?? d.cores ?? 2), '--memory', String(v.memory_mb ?? d.memory_mb ?? 2048)]);
  cmds.push(['set', id, '--onboot', bool(v.start_at_boot), '--boot', 'order=scsi0;net0', '--startup', `order=${v.boot_order ?? 999},up=${v.boot_delay ?? 0}`]);
  const nc = v.network_config ?? {};
  cmds.push(['set', id, '--ipconfig0', nc.ip && nc.ip !== 'dhcp' ? `ip=${nc.ip},gw=${nc.gw ?? '10.0.0.1'}` : 'ip=dhcp']);
  cmds.push(['set', id, '--nameserver', nc.nameserver ?? (nc.nameservers ?? ['10.0.0.13']).join(' ')]);
  cmds.push(['set', id, '--cicustom', `user=local:snippets/user-data-${id}.yml,network=local:snippets/network-config-${id}.yml`]);
  cmds.push(['set', id, '--agent', 'enabled=1']);
  if (v.is_template) cmds.push(['template', id]);
  return cmds;
}

function verdict(tool: string, argv: string[]): string {
  try {
    validateCommand(tool, argv, 'pve');
    return 'ok';
  } catch (err) {
    return errorText(err);
  }
}

describe('seed configurations pass argument validation', () => {
  for (const file of ['phoenix_lxc_configs.json', 'orchestrator-era/phoenix_lxc_configs.json']) {
    it(`every pct call implied by ${file}`, () => {
      const seeds = loadLxc(file);
      const all = Object.fromEntries(seeds);
      let count = 0;
      for (const [id, c] of seeds) {
        for (const cmd of lxcCommands(id, c, all)) {
          expect({ cmd, verdict: verdict('pct', cmd) }).toEqual({ cmd, verdict: 'ok' });
          count++;
        }
      }
      expect(count).toBeGreaterThan(seeds.length * 6);
    });
  }
  for (const file of ['phoenix_vm_configs.json', 'orchestrator-era/phoenix_vm_configs.json']) {
    it(`every qm call implied by ${file}`, () => {
      const { defaults, vms } = loadVms(file);
      for (const v of vms) for (const cmd of vmCommands(v, defaults)) expect({ cmd, verdict: verdict('qm', cmd) }).toEqual({ cmd, verdict: 'ok' });
    });
  }
});

describe('broken seed values are rejected like Proxmox does', () => {
  const id = '900';
  const base = Object.fromEntries(loadLxc('phoenix_lxc_configs.json'))[id] as LxcSeed;
  const usage = 'pct create <vmid> <ostemplate> [OPTIONS]\n';
  const create = (c: LxcSeed): string[] => lxcCommands(id, c, {})[0] ?? [];
  it.each([
    ['memory below the minimum', { memory_mb: 8 }, 'memory: value must have a minimum value of 16\n'],
    ['too many cores', { cores: 10000 }, 'cores: value must have a maximum value of 8192\n'],
    ['hostname with underscore', { name: 'bad_name' }, 'hostname: invalid format - value does not look like a valid DNS name\n\n'],
    ['multicast MAC address', { mac_address: '01:54:00:AA:BB:CC' }, 'net0: invalid format - format error\nnet0.hwaddr: invalid format - value does not look like a valid unicast MAC address\n\n\n'],
    ['address without prefix length', { network_config: { ...base.network_config, ip: '10.0.0.200' } }, 'net0: invalid format - format error\nnet0.ip: invalid format - value does not look like a valid ipv4 network configuration\n\n\n'],
    ['storage id with a space', { storage_pool: 'quick OS' }, 'storage: invalid format - storage ID \'quick OS\' contains illegal characters\n\n'],
  ])('%s', (_label, patch, line) => {
    expect(verdict('pct', create({ ...base, ...patch } as LxcSeed))).toBe(`400 Parameter verification failed.\n${line}${usage}`);
  });

  it('word-split feature options are rejected', () => {
    expect(verdict('pct', ['set', id, '--features', 'nesting=1,fuse'])).toBe(
      '400 Parameter verification failed.\nfeatures: invalid format - value without key, but schema does not define a default key\n\npct set <vmid> [OPTIONS]\n',
    );
  });

  it('a VM name with spaces is rejected', () => {
    expect(verdict('qm', ['create', '1001', '--name', 'Portainer Server'])).toBe(
      '400 Parameter verification failed.\nname: invalid format - value does not look like a valid DNS name\n\nqm create <vmid> [OPTIONS]\n',
    );
  });
});

describe('seed pipelines run end to end on the emulator', () => {
  let node: TestNode;
  let handle: EmulatedNodes;
  beforeAll(async () => {
    ({ node, handle } = await oneNode({
      templates: [],
      zpools: [{ name: 'quickOS' }, { name: 'fastData' }],
      extraStorages: [
        { id: 'quickOS-lxc-disks', type: 'zfspool', pool: 'quickOS/lxc-disks', content: ['rootdir', 'images'] },
        { id: 'quickOS-vm-disks', type: 'zfspool', pool: 'quickOS/vm-disks', content: ['images'] },
        { id: 'fastData-shared-bulk-data', type: 'zfspool', pool: 'fastData/shared-bulk-data', content: ['rootdir', 'images'] },
      ],
      timeScale: 0.002,
    }));
  });
  afterAll(async () => {
    await handle.teardown();
    fs.rmSync('/tmp/noble-server-cloudimg-amd64.img', { force: true });
  });

  it('creates a template CT from the seed, snapshots it and clones a child from the snapshot', async () => {
    const seeds = loadLxc('phoenix_lxc_configs.json');
    const all = Object.fromEntries(seeds);
    const isoDir = path.join(node.stateDir, 'fastData', 'shared-iso');
    expect((await node.run('pvesm', ['add', 'dir', 'fastData-shared-iso', '-path', isoDir, '-content', 'iso,vztmpl,snippets', '-shared', '1'])).code).toBe(0);
    expect((await node.run('pveam', ['download', 'fastData-shared-iso', 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst'])).code).toBe(0);
    const template = path.join(isoDir, 'template', 'cache', 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst');
    // 801 normally descends from 911 (900 -> 901 -> 911 -> 801); clone it straight from 900's snapshot.
    for (const id of ['900', '801']) {
      const c = all[id];
      if (!c) throw new Error(`seed ${id} missing`);
      for (const cmd of lxcCommands(id, { ...c, template, ...(id === '801' ? { clone_from_ctid: '900' } : {}) }, all)) {
        const r = await node.run('pct', cmd);
        const tolerated = cmd[0] === 'resize' && r.stderr === 'disk is already at specified size\n';
        expect({ cmd, code: tolerated ? 0 : r.code, stderr: tolerated ? '' : r.stderr }).toEqual({ cmd, code: 0, stderr: '' });
      }
    }
    const cfg = (await node.run('pct', ['config', '801'])).stdout;
    expect(cfg).toContain('hostname: granite-embedding\n');
    expect(cfg).toMatch(/^mp0: fastData-shared-bulk-data:subvol-801-disk-0,mp=\/vllm_models,size=50G$/m);
    expect(cfg).toMatch(/^rootfs: quickOS-lxc-disks:subvol-801-disk-0,size=128G$/m);
    expect(cfg).not.toContain('hwaddr=52:54:00:AA:BB:CC');
    expect((await node.run('pct', ['listsnapshot', '900'])).stdout).toMatch(/^`-> final-form +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +no-description\n +`-> current +You are here!\n$/);
  });

  it('builds the cloud-image template VM and a full clone of it', async () => {
    fs.writeFileSync('/tmp/noble-server-cloudimg-amd64.img', '');
    fs.truncateSync('/tmp/noble-server-cloudimg-amd64.img', 16 * 1024 * 1024);
    const { defaults, vms } = loadVms('phoenix_vm_configs.json');
    for (const v of vms.filter((x) => x.vmid === 9000 || x.vmid === 1001)) {
      for (const cmd of vmCommands(v, defaults)) {
        const r = await node.run('qm', cmd);
        expect({ cmd, code: r.code, stderr: r.stderr }).toEqual({ cmd, code: 0, stderr: '' });
      }
    }
    const cfg = (await node.run('qm', ['config', '1001'])).stdout;
    expect(cfg).toContain('name: Portainer\n');
    expect(cfg).toMatch(/^scsi0: quickOS-vm-disks:vm-1001-disk-0,size=32G$/m);
    expect(cfg).toMatch(/^ide2: quickOS-vm-disks:vm-1001-cloudinit,media=cdrom$/m);
    expect(cfg).toContain('ipconfig0: ip=10.0.0.111/24,gw=10.0.0.1\n');
    expect((await node.run('qm', ['config', '9000'])).stdout).toContain('template: 1\n');
  });
});
