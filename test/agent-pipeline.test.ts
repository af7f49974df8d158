/**
 * The guest pipeline against an emulated Proxmox node: real drivers, real emulator executables,
 * real feature scripts running in the emulated guests. Builds Phoenix's template chain
 * (900 base → 901 GPU layer → guests cloned from 901's snapshot) and checks convergence by
 * counting calls both in the agent's executor and in the emulator's own calls.log.
 * Needs `npx tsc -b` first (the emulator runs from test/dist).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentv1, commonv1 } from '@phoenix/shared';
import type { DeepPartial } from '../agent/src/drivers/testing/deep-partial.js';
import { createNodeDrivers, type CreatedNodeDrivers } from '../agent/src/drivers/index.js';
import { createGuestPipeline, type GuestPipeline, type PipelineEvent } from '../agent/src/pipeline/index.js';
import { addFault, clearFaults, mutatingCalls, readGuestConfigText } from './emulator/src/index.js';
import { startNodes, type EmulatedNodes } from './harness/index.js';

const UBUNTU = 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst';
type SpecInput = DeepPartial<agentv1.GuestSpec>;

let emu: EmulatedNodes;
let stateDir: string;
let drivers: CreatedNodeDrivers;
let pipeline: GuestPipeline;
let events: PipelineEvent[] = [];

const opts = (extra: Record<string, unknown> = {}) => ({ signal: AbortSignal.timeout(60_000), emit: (e: PipelineEvent) => events.push(e), ...extra });

function base(over: SpecInput = {}): agentv1.GuestSpec {
  return agentv1.GuestSpec.fromPartial({
    vmid: 900,
    type: commonv1.GuestType.LXC,
    hostname: 'copy-base',
    source: { kind: { $case: 'osTemplate', value: `local:vztmpl/${UBUNTU}` } },
    cores: 2,
    memoryMib: 2048,
    rootDisk: { storage: 'local-zfs', sizeGib: 16 },
    networks: [{ index: 0, name: 'eth0', bridge: 'vmbr0', ip: '10.0.0.200/24', gateway: '10.0.0.1', mac: '52:54:00:AA:BB:CC' }],
    nameservers: ['8.8.8.8'],
    unprivileged: true,
    apparmorProfile: 'unconfined',
    features: [{ name: 'base_setup', params: {} }],
    templateSnapshot: 'final-form',
    ...over,
  } as agentv1.GuestSpec);
}

function child(vmid: number, source: number, over: SpecInput = {}): agentv1.GuestSpec {
  return base({
    vmid,
    hostname: `ct${vmid}`,
    source: { kind: { $case: 'clone', value: { sourceVmid: source, snapshot: 'final-form', full: true, targetStorage: '' } } },
    networks: [{ index: 0, name: 'eth0', bridge: 'vmbr0', ip: `10.0.0.${vmid - 700}/24`, gateway: '10.0.0.1' }],
    features: [],
    templateSnapshot: '',
    ...over,
  });
}

const gpuLayer = () =>
  child(901, 900, { hostname: 'copy-cuda', features: [{ name: 'nvidia', params: {} }], gpu: { indices: [0, 1] }, templateSnapshot: 'final-form' });
const worker = (over: SpecInput = {}) =>
  child(950, 901, { features: [{ name: 'nvidia', params: {} }, { name: 'docker', params: {} }], gpu: { indices: [0] }, ...over });

/** Runs ensure and returns how many mutating calls the executor and the emulator saw. */
async function ensureCounting(spec: agentv1.GuestSpec) {
  const before = { exec: drivers.stats().mutating, emu: mutatingCalls(stateDir).length };
  const res = await pipeline.ensure(spec, opts());
  return {
    res,
    executor: drivers.stats().mutating - before.exec,
    emulator: mutatingCalls(stateDir).slice(before.emu),
  };
}

beforeAll(async () => {
  emu = await startNodes({ nodes: [{ name: 'pve1', gpus: 2 }], timeScale: 0.001 });
  const n = emu.nodes[0]!;
  stateDir = n.stateDir;
  drivers = createNodeDrivers({
    node: n.name,
    executor: { binDir: n.binDir, path: n.env['PATH'] ?? '', env: n.env, timeoutMs: 120_000 },
    lxcConfDir: `${n.stateDir}/lxc`,
    hostRoot: `${n.stateDir}/host`,
  });
  pipeline = createGuestPipeline({
    drivers,
    logger: pino({ level: 'silent' }),
    timing: { startBackoffMs: 10, healthIntervalMsDefault: 10, lockWaitMs: 2_000, lockPollMs: 50, shutdownTimeoutSeconds: 5 },
  });
});

afterAll(async () => {
  await emu?.teardown();
});

describe('guest pipeline on an emulated node', () => {
  it('builds the base layer from an OS template it first downloads, with streamed feature output', async () => {
    events = [];
    const { res } = await ensureCounting(base());
    expect(res.changedSteps).toEqual(['ensure_exists', 'start', 'feature:base_setup', 'template']);
    const logs = events.filter((e) => e.step === 'feature:base_setup' && e.log).map((e) => e.log?.line);
    expect(logs.length).toBeGreaterThan(0);
    expect(events.some((e) => e.step === 'feature:base_setup' && e.percent !== undefined && e.percent < 100)).toBe(true);
    const conf = readGuestConfigText(stateDir, 900) ?? '';
    expect(conf).toMatch(/^lxc\.apparmor\.profile: unconfined$/m);
    expect(conf).toMatch(/^\[final-form\]$/m);
    expect(res.guest).toMatchObject({ vmid: 900, status: commonv1.GuestStatus.STOPPED, snapshots: ['final-form'] });
    const calls = mutatingCalls(stateDir).map((c) => `${c.tool} ${c.argv[0]}`);
    expect(calls.slice(0, 2)).toEqual(['pveam download', 'pct create']);
  });

  it('builds the GPU layer from the base snapshot with the node driver version', async () => {
    events = [];
    const { res } = await ensureCounting(gpuLayer());
    expect(res.changedSteps).toEqual(['ensure_exists', 'configure', 'start', 'feature:nvidia', 'template']);
    expect(events).toContainEqual(expect.objectContaining({ step: 'feature:nvidia', state: 'done' }));
    const conf = readGuestConfigText(stateDir, 901) ?? '';
    expect(conf).toMatch(/^dev\d+: \/dev\/nvidia0$/m);
    expect(conf).toMatch(/^dev\d+: \/dev\/nvidia1$/m);
    expect(conf).toMatch(/^dev\d+: \/dev\/nvidiactl$/m);
  });

  it('clones a worker from the GPU layer: inherited features skipped, only its own GPU passed through', async () => {
    events = [];
    const { res } = await ensureCounting(worker());
    expect(events).toContainEqual(expect.objectContaining({ step: 'feature:nvidia', state: 'skipped' }));
    expect(events).toContainEqual(expect.objectContaining({ step: 'feature:docker', state: 'done' }));
    expect(res.changedSteps).toContain('configure');
    const conf = readGuestConfigText(stateDir, 950)?.split(/^\[/m)[0] ?? '';
    expect(conf).toMatch(/^dev\d+: \/dev\/nvidia0$/m);
    expect(conf).not.toMatch(/\/dev\/nvidia1$/m);
    expect(res.guest.status).toBe(commonv1.GuestStatus.RUNNING);
    const docker = await drivers.pct.exec(950, ['docker', '--version'], { mutating: false });
    expect(docker.exitCode).toBe(0);
  });

  it('makes no mutating call on a re-run of converged guests (executor and emulator agree)', async () => {
    for (const spec of [base(), gpuLayer(), worker()]) {
      const { res, executor, emulator } = await ensureCounting(spec);
      expect({ vmid: spec.vmid, changed: res.changed, executor, emulator }).toEqual({ vmid: spec.vmid, changed: false, executor: 0, emulator: [] });
    }
  });

  it('applies only the changed key on a spec change', async () => {
    const { executor, emulator } = await ensureCounting(worker({ cores: 4 }));
    expect(executor).toBe(1);
    expect(emulator.map((c) => c.argv)).toEqual([['set', '950', '--cores', '4']]);
  });

  it('removes the GPU passthrough when the request goes away', async () => {
    const { res } = await ensureCounting(worker({ cores: 4, gpu: { indices: [] }, features: [{ name: 'docker', params: {} }] }));
    expect(res.changedSteps).toContain('configure');
    const conf = readGuestConfigText(stateDir, 950)?.split(/^\[/m)[0] ?? '';
    expect(conf).not.toMatch(/^(dev\d+|lxc\.[a-z0-9.]+): .*nvidia/m);
    expect(conf).toMatch(/^cores: 4$/m);
  });

  it('converges after an agent died in the middle of a clone (lock: create on the target, disk on the source)', async () => {
    await addFault(stateDir, { tool: 'pct', command: 'clone', kind: 'die', at: 'midway' });
    await expect(pipeline.ensure(child(951, 901, { gpu: { indices: [1] } }), opts())).rejects.toThrow();
    await clearFaults(stateDir);
    expect(readGuestConfigText(stateDir, 951) ?? '').toMatch(/^lock: create$/m);
    events = [];
    const res = await pipeline.ensure(child(951, 901, { gpu: { indices: [1] } }), opts());
    expect(res.changedSteps).toContain('recover');
    const conf = readGuestConfigText(stateDir, 951) ?? '';
    expect(conf).not.toMatch(/^lock:/m);
    expect(readGuestConfigText(stateDir, 901) ?? '').not.toMatch(/^lock:/m);
    const list = await drivers.pct.list();
    expect(list.filter((g) => g.vmid === 951)).toEqual([expect.objectContaining({ vmid: 951, lock: '' })]);
    const again = await ensureCounting(child(951, 901, { gpu: { indices: [1] } }));
    expect(again.emulator).toEqual([]);
  });
});

describe('VM pipeline on an emulated node', () => {
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJMvSc5QAdGstcBsaArZcHjaKmOl3gJ8bHMU1i4Hp5Hg admin@phoenix';
  let image: string;
  const vm = (over: SpecInput = {}) =>
    agentv1.GuestSpec.fromPartial({
      vmid: 9000,
      type: commonv1.GuestType.VM,
      hostname: 'ubuntu-2404-cloud-template',
      source: { kind: { $case: 'cloudImage', value: image } },
      cores: 2,
      memoryMib: 2048,
      rootDisk: { storage: 'local-zfs', sizeGib: 32 },
      networks: [{ index: 0, bridge: 'vmbr0', ip: 'dhcp' }],
      vm: { guestAgent: true, cloudInit: { user: 'phoenix', sshKeys: [] } },
      features: [{ name: 'base_setup', params: {} }],
      convertToTemplate: true,
      ...over,
    } as agentv1.GuestSpec);
  const clone = (over: SpecInput = {}) =>
    vm({
      vmid: 1001,
      hostname: 'portainer',
      source: { kind: { $case: 'clone', value: { sourceVmid: 9000, snapshot: '', full: true, targetStorage: '' } } },
      networks: [{ index: 0, bridge: 'vmbr0', ip: '10.0.0.111/24', gateway: '10.0.0.1' }],
      features: [{ name: 'docker', params: {} }],
      convertToTemplate: false,
      ...over,
    });

  beforeAll(async () => {
    const { writeFile } = await import('node:fs/promises');
    image = `${stateDir}/noble-server-cloudimg-amd64.img`;
    await writeFile(image, 'QFI\xfb cloud image stand-in\n');
  });

  it('imports a cloud image, installs features through the guest agent and converts it to a template', async () => {
    events = [];
    const { res } = await ensureCounting(vm());
    expect(res.changedSteps).toEqual(['ensure_exists', 'resize', 'start', 'feature:base_setup', 'template']);
    const calls = mutatingCalls(stateDir).map((c) => c.argv.slice(0, 2).join(' '));
    expect(calls).toEqual(expect.arrayContaining(['create 9000', 'resize 9000', 'start 9000', 'guest exec', 'template 9000']));
    const conf = readGuestConfigText(stateDir, 9000) ?? '';
    expect(conf).toMatch(/^template: 1$/m);
    expect(conf).toMatch(/^ipconfig0: ip=dhcp$/m);
    expect(conf).toMatch(/^scsi0: local-zfs:base-9000-disk-0.*size=32G/m);
  });

  it('clones the template, sets a static address through cloud-init, and converges', async () => {
    const { res } = await ensureCounting(clone());
    expect(res.changedSteps).toEqual(expect.arrayContaining(['ensure_exists', 'configure', 'start', 'feature:docker']));
    expect(res.guest.status).toBe(commonv1.GuestStatus.RUNNING);
    const conf = readGuestConfigText(stateDir, 1001) ?? '';
    expect(conf).toMatch(/^ipconfig0: ip=10\.0\.0\.111\/24,gw=10\.0\.0\.1$/m);
    for (const spec of [vm(), clone()]) {
      const again = await ensureCounting(spec);
      expect({ vmid: spec.vmid, executor: again.executor, emulator: again.emulator }).toEqual({ vmid: spec.vmid, executor: 0, emulator: [] });
    }
  });

  it('hands SSH keys to qm as a file (the qm CLI URL-encodes it) and reads them back', async () => {
    const { emulator } = await ensureCounting(clone({ vm: { guestAgent: true, cloudInit: { user: 'phoenix', sshKeys: [key] } } }));
    expect(emulator.map((c) => c.argv[0])).toEqual(['set', 'cloudinit', 'shutdown', 'start']);
    expect(readGuestConfigText(stateDir, 1001) ?? '').toContain(`sshkeys: ${encodeURIComponent(`${key}\n`)}`);
    const again = await ensureCounting(clone({ vm: { guestAgent: true, cloudInit: { user: 'phoenix', sshKeys: [key] } } }));
    expect(again.emulator).toEqual([]);
  });
});

describe('an OpenShift node VM installing from the agent ISO', () => {
  const iso = 'local:iso/phoenix-ocp1-agent.x86_64.iso';
  const node = (over: SpecInput = {}) =>
    agentv1.GuestSpec.fromPartial({
      vmid: 9200,
      type: commonv1.GuestType.VM,
      hostname: 'ocp1-cp0',
      source: { kind: { $case: 'installIso', value: { volume: iso, rootDiskWwn: '0x5000c50055f2f437' } } },
      cores: 8,
      memoryMib: 16384,
      rootDisk: { storage: 'local-zfs', sizeGib: 120 },
      networks: [{ index: 0, bridge: 'vmbr0', mac: '52:54:00:0C:00:01', vlanTag: 42, model: 'virtio' }],
      onboot: true,
      vm: { bios: 'ovmf', machine: 'q35', osType: 'l26', cpuType: 'host', guestAgent: false, bootOrder: ['scsi0', 'ide2'], extraDisks: [{ slot: 'scsi1', storage: 'local-zfs', sizeGib: 150, wwn: '' }] },
      ...over,
    } as agentv1.GuestSpec);

  it('is refused with qemu-server\'s error while the ISO is not on the node, and nothing is left behind', async () => {
    await expect(pipeline.ensure(node(), opts())).rejects.toThrow(`unable to create VM 9200 - volume '${iso}' does not exist`);
    expect(readGuestConfigText(stateDir, 9200)).toBeUndefined();
  });

  it('creates blank disks with the ISO on ide2 and starts it; a second ensure makes no mutating call', async () => {
    const { mkdir, writeFile } = await import('node:fs/promises');
    const { dirname } = await import('node:path');
    const path = await drivers.pvesm.path(iso);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, Buffer.alloc(1024 * 1024));
    const first = await ensureCounting(node());
    expect(first.res.changedSteps).toEqual(['ensure_exists', 'start']);
    expect(first.emulator.map((c) => c.argv[0])).toEqual(['create', 'start']);
    expect(first.res.guest.status).toBe(commonv1.GuestStatus.RUNNING);
    const conf = readGuestConfigText(stateDir, 9200)?.split(/^\[/m)[0] ?? '';
    expect(conf).toMatch(/^cpu: host$/m);
    expect(conf).toMatch(/^scsihw: virtio-scsi-single$/m);
    expect(conf).toMatch(/^scsi0: local-zfs:vm-9200-disk-\d,discard=on,iothread=1,size=120G,ssd=1,wwn=0x5000c50055f2f437$/m);
    expect(conf).toMatch(/^scsi1: local-zfs:vm-9200-disk-\d,discard=on,iothread=1,size=150G,ssd=1$/m);
    expect(conf).toMatch(/^ide2: local:iso\/phoenix-ocp1-agent\.x86_64\.iso,media=cdrom,size=1M$/m);
    expect(conf).toMatch(/^boot: order=scsi0;ide2$/m);
    expect(conf).toMatch(/^net0: virtio=52:54:00:0C:00:01,bridge=vmbr0,tag=42$/m);
    expect(conf).toMatch(/^ostype: l26$/m);
    expect(conf).toMatch(/^onboot: 1$/m);
    expect(conf).toMatch(/^bios: ovmf$/m);
    expect(conf).toMatch(/^machine: q35$/m);
    expect(conf).toMatch(/^efidisk0: local-zfs:vm-9200-disk-\d,efitype=4m,pre-enrolled-keys=0,size=\d+[KMG]$/m);
    expect(conf).not.toMatch(/cloudinit|^ipconfig/m);
    const again = await ensureCounting(node());
    expect({ steps: again.res.changedSteps, executor: again.executor, emulator: again.emulator }).toEqual({ steps: [], executor: 0, emulator: [] });
  });
});

describe('VM GPU passthrough on an emulated node', () => {
  // A node of its own: the container layers above hold both GPUs of pve1.
  let gpuEmu: EmulatedNodes;
  let dir: string;
  let gpuDrivers: CreatedNodeDrivers;
  let gpuPipeline: GuestPipeline;
  let image: string;
  const gpuVm = (vmid: number, indices: number[]) =>
    agentv1.GuestSpec.fromPartial({
      vmid,
      type: commonv1.GuestType.VM,
      hostname: `gpu-vm-${vmid}`,
      source: { kind: { $case: 'cloudImage', value: image } },
      cores: 2,
      memoryMib: 2048,
      rootDisk: { storage: 'local-zfs', sizeGib: 8 },
      networks: [{ index: 0, bridge: 'vmbr0', ip: 'dhcp' }],
      vm: { guestAgent: true },
      gpu: { indices },
    });

  beforeAll(async () => {
    gpuEmu = await startNodes({ nodes: [{ name: 'pve2', gpus: 2 }], timeScale: 0.001 });
    const n = gpuEmu.nodes[0]!;
    dir = n.stateDir;
    gpuDrivers = createNodeDrivers({
      node: n.name,
      executor: { binDir: n.binDir, path: n.env['PATH'] ?? '', env: n.env, timeoutMs: 120_000 },
      lxcConfDir: `${n.stateDir}/lxc`,
      hostRoot: `${n.stateDir}/host`,
    });
    gpuPipeline = createGuestPipeline({ drivers: gpuDrivers, logger: pino({ level: 'silent' }), timing: { startBackoffMs: 10, shutdownTimeoutSeconds: 5 } });
    const { writeFile } = await import('node:fs/promises');
    image = `${dir}/noble-server-cloudimg-amd64.img`;
    await writeFile(image, 'QFI\xfb cloud image stand-in\n');
  });

  afterAll(async () => {
    await gpuEmu?.teardown();
  });

  it('passes GPU 1 as hostpci0 on a q35 machine and starts it; a second ensure changes nothing', async () => {
    const res = await gpuPipeline.ensure(gpuVm(9100, [1]), opts());
    expect(res.guest.status).toBe(commonv1.GuestStatus.RUNNING);
    const conf = readGuestConfigText(dir, 9100)?.split(/^\[/m)[0] ?? '';
    expect(conf).toMatch(/^hostpci0: 0000:00:07\.0,pcie=1$/m);
    expect(conf).toMatch(/^machine: q35$/m);
    // qm start bound the GPU to vfio-pci: the host's nvidia-smi lists only the other one, as GPU 0.
    expect((await gpuDrivers.nvidia.queryGpus()).map((g) => [g.index, g.pciBusId])).toEqual([[0, '00000000:00:06.0']]);
    const before = { exec: gpuDrivers.stats().mutating, emu: mutatingCalls(dir).length };
    const again = await gpuPipeline.ensure(gpuVm(9100, [1]), opts());
    expect(again.changedSteps).toEqual([]);
    expect({ executor: gpuDrivers.stats().mutating - before.exec, emulator: mutatingCalls(dir).slice(before.emu) }).toEqual({ executor: 0, emulator: [] });
  });

  it('refuses a second VM asking for the same GPU, naming the index', async () => {
    await expect(gpuPipeline.ensure(gpuVm(9101, [1]), opts())).rejects.toThrow(/GPU 1 \(0000:00:07\.0\) is already passed through to VM 9100/);
    expect(readGuestConfigText(dir, 9101)).toBeUndefined();
  });
});
