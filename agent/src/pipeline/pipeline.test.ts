import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { CommandFailedError, FailedPreconditionError, InvalidArgumentError, LockedError, agentv1, commonv1 } from '@phoenix/shared';
import type { DeepPartial } from '../drivers/testing/deep-partial.js';
import { FakeNode } from '../drivers/testing/fake-node.js';
import { createGuestPipeline, type PipelineEvent, type GuestPipeline } from './index.js';
import type { GuestPipelineDeps } from './types.js';

const UBUNTU = 'local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst';
const FAST = { startBackoffMs: 1, healthIntervalMsDefault: 1, agentPingIntervalMs: 1, lockWaitMs: 50, lockPollMs: 5 };

type SpecInput = DeepPartial<agentv1.GuestSpec>;

function lxc(over: SpecInput = {}): agentv1.GuestSpec {
  return agentv1.GuestSpec.fromPartial({
    vmid: 900,
    type: commonv1.GuestType.LXC,
    hostname: 'copy-base',
    source: { kind: { $case: 'osTemplate', value: UBUNTU } },
    cores: 2,
    memoryMib: 2048,
    rootDisk: { storage: 'local-zfs', sizeGib: 16 },
    networks: [{ index: 0, name: 'eth0', bridge: 'vmbr0', ip: '10.0.0.200/24', gateway: '10.0.0.1', mac: '52:54:00:AA:BB:CC' }],
    unprivileged: true,
    apparmorProfile: 'unconfined',
    features: [{ name: 'base_setup', params: {} }],
    ...over,
  } as agentv1.GuestSpec);
}

function cloneOf(vmid: number, source: number, over: SpecInput = {}): agentv1.GuestSpec {
  return lxc({
    vmid,
    hostname: `ct${vmid}`,
    source: { kind: { $case: 'clone', value: { sourceVmid: source, snapshot: 'final-form', full: true, targetStorage: '' } } },
    networks: [{ index: 0, name: 'eth0', bridge: 'vmbr0', ip: `10.0.0.${vmid % 250}/24`, gateway: '10.0.0.1', mac: '', vlanTag: 0, firewall: false, model: '' }],
    features: [],
    ...over,
  });
}

let node: FakeNode;
let events: PipelineEvent[];
let pipeline: GuestPipeline;
const opts = (extra: Record<string, unknown> = {}) => ({ signal: new AbortController().signal, emit: (e: PipelineEvent) => events.push(e), ...extra });
const mutations = () => node.mutatingCalls().map((c) => `${c.tool} ${c.command}`);

function make(deps: Partial<GuestPipelineDeps> = {}): GuestPipeline {
  return createGuestPipeline({ drivers: node, logger: pino({ level: 'silent' }), timing: FAST, ...deps });
}

beforeEach(() => {
  node = new FakeNode().withGpus(2, 511);
  node.downloadable.add('ubuntu-24.04-standard_24.04-2_amd64.tar.zst');
  node.execHandler = (_vmid, command) => {
    const script = command.find((a) => a.startsWith('/tmp/phoenix-'));
    return script ? { exitCode: 0, stdout: `::progress 50 working on ${script}\nran ${script}` } : { exitCode: 0 };
  };
  events = [];
  pipeline = make();
});

describe('container pipeline', () => {
  it('builds a template layer: downloads the template, creates, installs features, takes the snapshot', async () => {
    const res = await pipeline.ensure(lxc({ templateSnapshot: 'final-form' }), opts());
    expect(mutations()).toEqual([
      'pveam download',
      'pct create',
      'lxc-conf write',
      'pct start',
      'pct push',
      'pct exec',
      'pct set',
      'pct shutdown',
      'pct snapshot',
    ]);
    const create = node.calls.find((c) => c.command === 'create');
    expect(create?.args[2]).toMatchObject({ hostname: 'copy-base', cores: 2, memory: 2048, rootfs: 'local-zfs:16', unprivileged: true });
    expect(String((create?.args[2] as Record<string, string>)['net0'])).toContain('hwaddr=52:54:00:AA:BB:CC');
    const g = node.guests.get(900);
    expect(g?.lxc).toEqual([{ key: 'lxc.apparmor.profile', value: 'unconfined' }]);
    expect(g?.status).toBe('stopped');
    expect(g?.snapshots.has('final-form')).toBe(true);
    expect(g?.values['description']).toMatch(/^<!-- phoenix:installed base_setup@[0-9a-f]{8} -->$/);
    expect(res.changed).toBe(true);
    expect(res.changedSteps).toEqual(['ensure_exists', 'start', 'feature:base_setup', 'template']);
    // The feature's output was streamed as log lines and percent events.
    expect(events).toContainEqual(expect.objectContaining({ step: 'feature:base_setup', log: { line: 'ran /tmp/phoenix-feature-base_setup.sh', stderr: false } }));
    expect(events).toContainEqual(expect.objectContaining({ step: 'feature:base_setup', percent: 50, message: 'working on /tmp/phoenix-feature-base_setup.sh' }));
    expect(res.guest).toMatchObject({ vmid: 900, name: 'copy-base', type: commonv1.GuestType.LXC, snapshots: ['final-form'] });
  });

  it('makes no mutating call when run again on the converged guest', async () => {
    await pipeline.ensure(lxc({ templateSnapshot: 'final-form' }), opts());
    node.resetCalls();
    events = [];
    const res = await pipeline.ensure(lxc({ templateSnapshot: 'final-form' }), opts());
    expect(mutations()).toEqual([]);
    expect(res).toMatchObject({ changed: false, changedSteps: [] });
    expect(events.filter((e) => e.state === 'done')).toEqual([]);
  });

  it('applies a spec change with one pct set holding only the changed key', async () => {
    await pipeline.ensure(lxc(), opts());
    node.resetCalls();
    const res = await pipeline.ensure(lxc({ cores: 4 }), opts());
    expect(mutations()).toEqual(['pct set']);
    expect(node.mutatingCalls()[0]?.args).toEqual([900, { cores: '4' }, []]);
    expect(res.changedSteps).toEqual(['configure']);
  });

  it('passes GPUs through as devN entries and removes them when the request goes away (restart applies it)', async () => {
    await pipeline.ensure(lxc({ gpu: { indices: [1] } }), opts());
    const g = node.guests.get(900);
    expect(Object.entries(g?.values ?? {}).filter(([k]) => k.startsWith('dev'))).toEqual([
      ['dev0', '/dev/nvidia1'],
      ['dev1', '/dev/nvidiactl'],
      ['dev2', '/dev/nvidia-uvm'],
      ['dev3', '/dev/nvidia-uvm-tools'],
    ]);
    node.resetCalls();
    await pipeline.ensure(lxc({ gpu: { indices: [] } }), opts());
    expect(mutations()).toEqual(['pct set', 'pct shutdown', 'pct start']);
    expect(node.mutatingCalls()[0]?.args).toEqual([900, {}, ['dev0', 'dev1', 'dev2', 'dev3']]);
    expect(Object.keys(g?.values ?? {}).filter((k) => k.startsWith('dev'))).toEqual([]);
  });

  it('writes raw cgroup and mount lines with the majors read from the node in raw mode, and removes them', async () => {
    pipeline = make({ gpuMode: 'raw' });
    await pipeline.ensure(lxc({ gpu: { indices: [0] } }), opts());
    const lines = node.guests.get(900)?.lxc.map((l) => `${l.key}: ${l.value}`);
    expect(lines).toEqual([
      'lxc.apparmor.profile: unconfined',
      'lxc.cgroup2.devices.allow: c 195:0 rwm',
      'lxc.cgroup2.devices.allow: c 195:255 rwm',
      'lxc.cgroup2.devices.allow: c 511:0 rwm',
      'lxc.cgroup2.devices.allow: c 511:1 rwm',
      'lxc.mount.entry: /dev/nvidia0 dev/nvidia0 none bind,optional,create=file',
      'lxc.mount.entry: /dev/nvidiactl dev/nvidiactl none bind,optional,create=file',
      'lxc.mount.entry: /dev/nvidia-uvm dev/nvidia-uvm none bind,optional,create=file',
      'lxc.mount.entry: /dev/nvidia-uvm-tools dev/nvidia-uvm-tools none bind,optional,create=file',
    ]);
    node.resetCalls();
    await pipeline.ensure(lxc({ gpu: { indices: [] } }), opts());
    expect(node.guests.get(900)?.lxc).toEqual([{ key: 'lxc.apparmor.profile', value: 'unconfined' }]);
    expect(mutations()).toEqual(['lxc-conf write', 'pct shutdown', 'pct start']);
  });

  it('maps GPU indices to device minors through the PCI address', async () => {
    node.minorsByBusId = { '0000:01:00.0': 1, '0000:02:00.0': 0 };
    await pipeline.ensure(lxc({ gpu: { indices: [0] } }), opts());
    expect(node.guests.get(900)?.values['dev0']).toBe('/dev/nvidia1');
  });

  it.each([
    ['an unknown feature', lxc({ features: [{ name: 'base_setup', params: {} }, { name: 'kubernetes', params: {} }] }), 'features[1].name', 'kubernetes'],
    ['vllm without nvidia', lxc({ gpu: { indices: [0] }, features: [{ name: 'vllm', params: {} }] }), 'features[0].name', 'vllm'],
    ['portainer without docker', lxc({ features: [{ name: 'portainer', params: { role: 'agent' } }] }), 'features[0].name', 'portainer'],
    ['nvidia without GPU passthrough', lxc({ features: [{ name: 'nvidia', params: {} }] }), 'features[0].name', 'nvidia'],
    ['a bad feature parameter', lxc({ features: [{ name: 'docker', params: {} }, { name: 'portainer', params: { role: 'boss' } }] }), 'features[1].params.role', 'boss'],
    ['a GPU the node lacks', lxc({ gpu: { indices: [5] } }), 'gpu.indices[0]', '5'],
    ['a bad MAC', lxc({ networks: [{ index: 0, bridge: 'vmbr0', mac: '01:00:00:00:00:01', name: '', ip: '', gateway: '', vlanTag: 0, firewall: false, model: '' }] }), 'networks[0].mac', '01:00'],
  ])('rejects %s before changing anything', async (_what, spec, field, value) => {
    const err = await pipeline.ensure(spec, opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe(field);
    expect((err as Error).message).toContain(value);
    expect(mutations()).toEqual([]);
  });

  it('refuses to shrink the root disk, before any change', async () => {
    await pipeline.ensure(lxc(), opts());
    node.resetCalls();
    const err = await pipeline.ensure(lxc({ cores: 8, rootDisk: { storage: 'local-zfs', sizeGib: 8 } }), opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe('root_disk.size_gib');
    expect(mutations()).toEqual([]);
    expect(node.guests.get(900)?.values['cores']).toBe('2');
  });

  it('grows the root disk', async () => {
    await pipeline.ensure(lxc(), opts());
    node.resetCalls();
    await pipeline.ensure(lxc({ rootDisk: { storage: 'local-zfs', sizeGib: 32 } }), opts());
    expect(node.mutatingCalls().map((c) => c.args)).toEqual([[900, 'rootfs', '32G']]);
  });

  it('layers templates: children clone the snapshot, inherit features, and get only their own GPU', async () => {
    await pipeline.ensure(lxc({ templateSnapshot: 'final-form' }), opts());
    await pipeline.ensure(
      cloneOf(901, 900, { features: [{ name: 'nvidia', params: {} }], gpu: { indices: [0, 1] }, templateSnapshot: 'final-form' }),
      opts(),
    );
    node.resetCalls();
    events = [];
    // vllm needs nvidia: inherited from 901's snapshot record, so this spec is valid.
    await pipeline.ensure(cloneOf(950, 901, { features: [{ name: 'nvidia', params: {} }, { name: 'vllm', params: {} }], gpu: { indices: [0] } }), opts());
    const execs = node.calls.filter((c) => c.command === 'exec').map((c) => (c.args[1] as string[]).find((a) => a.startsWith('/tmp/')));
    expect(execs).toEqual(['/tmp/phoenix-feature-vllm.sh']);
    expect(events).toContainEqual(expect.objectContaining({ step: 'feature:nvidia', state: 'skipped' }));
    const g = node.guests.get(950);
    const devs = Object.entries(g?.values ?? {}).filter(([k]) => k.startsWith('dev')).map(([, v]) => v).sort();
    expect(devs).toEqual(['/dev/nvidia-uvm', '/dev/nvidia-uvm-tools', '/dev/nvidia0', '/dev/nvidiactl']);
    expect(g?.values['description']).toMatch(/base_setup@\w+ nvidia@\w+ vllm@\w+/);
    expect(g?.status).toBe('running');
  });

  it('CreateGuest and CloneGuest refuse a VMID that is taken, and change nothing', async () => {
    await pipeline.ensure(lxc({ templateSnapshot: 'final-form' }), opts());
    await pipeline.ensure(cloneOf(901, 900), opts());
    node.resetCalls();
    await expect(pipeline.create(lxc(), opts())).rejects.toMatchObject({ code: 'ALREADY_EXISTS', message: "CT 900 already exists on node 'pve'" });
    await expect(pipeline.clone(cloneOf(901, 900), opts())).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(mutations()).toEqual([]);
    // EnsureGuest converges an existing guest instead.
    await expect(pipeline.ensure(cloneOf(901, 900), opts())).resolves.toMatchObject({ changed: false });
  });

  it('refuses a clone whose source snapshot does not exist yet', async () => {
    await pipeline.ensure(lxc(), opts());
    const err = await pipeline.ensure(cloneOf(901, 900), opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FailedPreconditionError);
    expect((err as Error).message).toContain("no snapshot 'final-form'");
  });

  it('removes a half-created target left with lock: create and builds it again; unlocks a stale source disk lock', async () => {
    await pipeline.ensure(lxc({ templateSnapshot: 'final-form' }), opts());
    node.guests.get(900)!.values['lock'] = 'disk';
    node.addGuest(950, 'lxc', { lock: 'create', hostname: 'half', unprivileged: '1' });
    node.resetCalls();
    const res = await pipeline.ensure(cloneOf(950, 900), opts());
    expect(mutations().slice(0, 4)).toEqual(['pct unlock', 'pct destroy', 'pct unlock', 'pct clone']);
    expect(node.guests.get(950)?.values['lock']).toBeUndefined();
    expect(node.guests.get(900)?.values['lock']).toBeUndefined();
    expect(node.guests.get(950)?.values['hostname']).toBe('ct950');
    expect(res.changedSteps).toContain('recover');
    expect(events).toContainEqual(expect.objectContaining({ step: 'recover', message: expect.stringContaining('half-made') }));
  });

  it('does not touch a lock held by a running operation: waits, then reports LOCKED', async () => {
    node.addGuest(950, 'lxc', { lock: 'create', hostname: 'busy', unprivileged: '1' });
    const err = await pipeline.ensure(cloneOf(950, 900), opts({ isOperationActive: (v: number) => v === 950 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect(mutations()).toEqual([]);
  });

  it('leaves locks of other tools alone', async () => {
    node.addGuest(950, 'lxc', { lock: 'backup', hostname: 'b', unprivileged: '1' });
    await expect(pipeline.ensure(cloneOf(950, 900), opts())).rejects.toBeInstanceOf(LockedError);
    expect(mutations()).toEqual([]);
  });

  it('dry run streams the plan and changes nothing', async () => {
    const res = await pipeline.ensure(lxc({ templateSnapshot: 'final-form' }), opts({ dryRun: true }));
    expect(mutations()).toEqual([]);
    expect(res.changedSteps).toEqual(['ensure_exists', 'start', 'feature:base_setup', 'template']);
    expect(events.filter((e) => e.state === 'done').map((e) => e.message)).toEqual([
      `would create CT 900 from ${UBUNTU}`,
      'would start',
      'would install base_setup',
      'would stop and take snapshot final-form',
    ]);
    await pipeline.ensure(lxc(), opts());
    node.resetCalls();
    const res2 = await pipeline.ensure(lxc({ cores: 6, gpu: { indices: [0] } }), opts({ dryRun: true }));
    expect(mutations()).toEqual([]);
    expect(res2.changedSteps).toEqual(['configure', 'start']);
  });

  it('retries a failing start with backoff', async () => {
    node.failNext('pct start', new CommandFailedError('startup for container 900 failed'));
    node.failNext('pct start', new CommandFailedError('startup for container 900 failed'));
    await pipeline.ensure(lxc(), opts());
    expect(node.calls.filter((c) => c.command === 'start')).toHaveLength(3);
    expect(events.filter((e) => e.step === 'start' && e.log?.stderr)).toHaveLength(2);
  });

  it('gives up after the bounded start attempts', async () => {
    for (let i = 0; i < 3; i++) node.failNext('pct start', new CommandFailedError('startup failed'));
    await expect(pipeline.ensure(lxc(), opts())).rejects.toBeInstanceOf(CommandFailedError);
    expect(node.calls.filter((c) => c.command === 'start')).toHaveLength(3);
    expect(events).toContainEqual(expect.objectContaining({ step: 'start', state: 'failed' }));
  });

  it('runs the health check with retries, records it, and does not repeat it when nothing changed', async () => {
    let probes = 0;
    node.execHandler = (_v, command) => {
      if (command[0] === 'curl') return ++probes < 3 ? { exitCode: 7, stderr: 'connection refused' } : { exitCode: 0 };
      return { exitCode: 0 };
    };
    const spec = lxc({ healthCheck: { command: ['curl', '-fs', 'http://localhost:6333'], retries: 5, intervalSeconds: 0 } });
    await pipeline.ensure(spec, opts());
    expect(probes).toBe(3);
    expect(node.calls.filter((c) => c.command === 'exec' && !c.mutating)).toHaveLength(3);
    node.resetCalls();
    await pipeline.ensure(spec, opts());
    expect(node.calls.filter((c) => c.command === 'exec')).toEqual([]);
    expect(mutations()).toEqual([]);
  });

  it('fails the health check after its retries', async () => {
    node.execHandler = (_v, command) => (command[0] === 'false' ? { exitCode: 1, stderr: 'nope' } : { exitCode: 0 });
    const err = await pipeline.ensure(lxc({ healthCheck: { command: ['false'], retries: 2, intervalSeconds: 0 } }), opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    expect((err as Error).message).toContain('failed 2 time(s): nope');
  });

  it('fails the feature step with the script’s exit code and last error line', async () => {
    node.execHandler = (_v, command) =>
      command.some((a) => a.includes('base_setup')) ? { exitCode: 1, stderr: 'E: Unable to locate package s-tui' } : { exitCode: 0 };
    const err = await pipeline.ensure(lxc(), opts()).catch((e: unknown) => e);
    expect((err as Error).message).toBe('feature base_setup failed in guest 900 (exit 1): E: Unable to locate package s-tui');
    expect(events).toContainEqual(expect.objectContaining({ step: 'feature:base_setup', state: 'failed' }));
    // Not recorded: the next run tries again.
    expect(node.guests.get(900)?.values['description'] ?? '').not.toContain('base_setup');
  });

  it('converts to a Proxmox template when asked, and then leaves it alone', async () => {
    await pipeline.ensure(lxc({ convertToTemplate: true }), opts());
    expect(node.guests.get(900)?.values['template']).toBe('1');
    node.resetCalls();
    await pipeline.ensure(lxc({ convertToTemplate: true }), opts());
    expect(mutations()).toEqual([]);
    await expect(pipeline.ensure(lxc({ convertToTemplate: true, cores: 8 }), opts())).rejects.toBeInstanceOf(FailedPreconditionError);
  });

  it('stops at the next step once the call is cancelled, and says so', async () => {
    const ac = new AbortController();
    const emit = (e: PipelineEvent) => {
      events.push(e);
      if (e.step === 'start' && e.state === 'done') ac.abort(new Error('client went away'));
    };
    const { CancelledError } = await import('@phoenix/shared');
    await expect(pipeline.ensure(lxc(), { signal: ac.signal, emit })).rejects.toBeInstanceOf(CancelledError);
    expect(node.calls.some((c) => c.command === 'exec')).toBe(false);
  });

  it('unlocks a stale snapshot lock left by a dead operation and carries on', async () => {
    await pipeline.ensure(lxc(), opts());
    node.guests.get(900)!.values['lock'] = 'snapshot';
    node.resetCalls();
    const res = await pipeline.ensure(lxc({ cores: 3 }), opts());
    expect(mutations()).toEqual(['pct unlock', 'pct set']);
    expect(res.changedSteps).toEqual(['recover', 'configure']);
  });

  it('refuses template_snapshot together with convert_to_template', async () => {
    await expect(pipeline.ensure(lxc({ convertToTemplate: true, templateSnapshot: 'x1' }), opts())).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('recoverInterrupted', () => {
  it('removes half-made guests, unlocks stale disk locks and leaves other locks alone', async () => {
    node.addGuest(120, 'lxc', { lock: 'create', unprivileged: '1' });
    node.addGuest(121, 'lxc', { lock: 'disk', unprivileged: '1' });
    node.addGuest(122, 'lxc', { lock: 'backup', unprivileged: '1' });
    node.addGuest(123, 'lxc', { lock: 'create', unprivileged: '1' });
    const res = await pipeline.recoverInterrupted(undefined, { isOperationActive: (v) => v === 123 });
    expect(node.guests.has(120)).toBe(false);
    expect(node.guests.get(121)?.values['lock']).toBeUndefined();
    expect(node.guests.get(122)?.values['lock']).toBe('backup');
    expect(node.guests.get(123)?.values['lock']).toBe('create');
    expect(res.actions).toHaveLength(2);
  });
});

describe('VM pipeline', () => {
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx9 admin@phoenix';
  const vm = (over: SpecInput = {}) =>
    agentv1.GuestSpec.fromPartial({
      vmid: 9000,
      type: commonv1.GuestType.VM,
      hostname: 'ubuntu-2404-cloud-template',
      source: { kind: { $case: 'cloudImage', value: '/var/lib/vz/template/iso/noble-server-cloudimg-amd64.img' } },
      cores: 2,
      memoryMib: 2048,
      rootDisk: { storage: 'local-zfs', sizeGib: 32 },
      networks: [{ index: 0, bridge: 'vmbr0', ip: 'dhcp' }],
      vm: { guestAgent: true, cloudInit: { user: 'phoenix', sshKeys: [key] } },
      ...over,
    } as agentv1.GuestSpec);

  it('imports a cloud image with cloud-init, grows the disk, waits for the agent; a re-run changes nothing', async () => {
    await pipeline.ensure(vm(), opts());
    const create = node.calls.find((c) => c.tool === 'qm' && c.command === 'create');
    expect(create?.args[1]).toMatchObject({
      scsi0: 'local-zfs:0,import-from=/var/lib/vz/template/iso/noble-server-cloudimg-amd64.img',
      ide2: 'local-zfs:cloudinit',
      ciuser: 'phoenix',
      ipconfig0: 'ip=dhcp',
      agent: 'enabled=1',
      net0: 'virtio,bridge=vmbr0',
    });
    expect(node.guests.get(9000)?.values['sshkeys']).toBe(encodeURIComponent(`${key}\n`));
    expect(mutations()).toEqual(['qm create', 'qm resize', 'qm start']);
    expect(node.calls.some((c) => c.command === 'agent ping')).toBe(true);
    node.resetCalls();
    await pipeline.ensure(vm(), opts());
    expect(mutations()).toEqual([]);
  });

  it('changes cloud-init network config with one qm set and regenerates the drive', async () => {
    await pipeline.ensure(vm(), opts());
    node.resetCalls();
    await pipeline.ensure(vm({ networks: [{ index: 0, bridge: 'vmbr0', ip: '10.0.0.111/24', gateway: '10.0.0.1' }] }), opts());
    expect(mutations()).toEqual(['qm set', 'qm cloudinit update', 'qm shutdown', 'qm start']);
    expect(node.mutatingCalls()[0]?.args).toEqual([9000, { ipconfig0: 'ip=10.0.0.111/24,gw=10.0.0.1' }, []]);
  });

  describe('GPU passthrough (hostpciN)', () => {
    // The fake node's GPUs: index 0 at 00000000:01:00.0, index 1 at 00000000:02:00.0.
    const gpuVm = (vmid: number, indices: number[], over: SpecInput = {}) => vm({ vmid, hostname: `gpu${vmid}`, gpu: { indices }, ...over });

    it('passes the GPU as hostpci0 with pcie=1 on a q35 machine; a re-run changes nothing', async () => {
      await pipeline.ensure(gpuVm(9000, [1]), opts());
      const create = node.calls.find((c) => c.tool === 'qm' && c.command === 'create');
      expect(create?.args[1]).toMatchObject({ hostpci0: '0000:02:00.0,pcie=1', machine: 'q35' });
      expect(node.guests.get(9000)?.values['hostpci0']).toBe('0000:02:00.0,pcie=1');
      node.resetCalls();
      await pipeline.ensure(gpuVm(9000, [1]), opts());
      expect(mutations()).toEqual([]);
    });

    it('adds the GPU to an existing VM with one qm set and a restart; dropping the request removes it', async () => {
      await pipeline.ensure(vm(), opts());
      node.resetCalls();
      await pipeline.ensure(gpuVm(9000, [0], { hostname: 'ubuntu-2404-cloud-template' }), opts());
      expect(mutations()).toEqual(['qm set', 'qm shutdown', 'qm start']);
      expect(node.mutatingCalls()[0]?.args).toEqual([9000, { hostpci0: '0000:01:00.0,pcie=1', machine: 'q35' }, []]);
      node.resetCalls();
      await pipeline.ensure(vm(), opts());
      expect(node.mutatingCalls()[0]?.args).toEqual([9000, {}, ['hostpci0']]);
    });

    it('keeps a running VM converged when its GPU left the host driver (nvidia-smi renumbers the rest)', async () => {
      await pipeline.ensure(gpuVm(9000, [0]), opts());
      expect(node.guests.get(9000)?.status).toBe('running');
      // Bound to vfio-pci: the host lists only the other GPU, now as index 0.
      node.gpus = node.gpus.filter((g) => g.index === 1).map((g) => ({ ...g, index: 0 }));
      node.resetCalls();
      await pipeline.ensure(gpuVm(9000, [0]), opts());
      expect(mutations()).toEqual([]);
      expect(node.guests.get(9000)?.values['hostpci0']).toBe('0000:01:00.0,pcie=1');
      // The GPU the host still lists keeps its boot-time index 1 for other guests.
      await pipeline.ensure(gpuVm(9001, [1]), opts());
      expect(node.guests.get(9001)?.values['hostpci0']).toBe('0000:02:00.0,pcie=1');
    });

    it('refuses a GPU another VM holds, naming the index, before any change', async () => {
      await pipeline.ensure(gpuVm(9000, [0]), opts());
      node.resetCalls();
      const err = await pipeline.ensure(gpuVm(9001, [0]), opts()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FailedPreconditionError);
      expect((err as Error).message).toMatch(/GPU 0 \(0000:01:00\.0\) is already passed through to VM 9000/);
      expect(mutations()).toEqual([]);
      expect(node.guests.has(9001)).toBe(false);
    });

    it('refuses a GPU a container holds through /dev/nvidia<minor>', async () => {
      node.addGuest(905, 'lxc', { hostname: 'ct905', dev0: '/dev/nvidia1', unprivileged: '1' });
      const err = await pipeline.ensure(gpuVm(9000, [1]), opts()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FailedPreconditionError);
      expect((err as Error).message).toMatch(/GPU 1 .* CT 905/);
      expect(mutations()).toEqual([]);
    });

    it('refuses a GPU the node does not have, and a machine type that cannot take PCIe devices', async () => {
      await expect(pipeline.ensure(gpuVm(9000, [5]), opts())).rejects.toThrow(/no GPU 5/);
      await expect(pipeline.ensure(gpuVm(9000, [0], { vm: { guestAgent: true, machine: 'pc-i440fx-9.0' } }), opts())).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(mutations()).toEqual([]);
    });
  });
});
