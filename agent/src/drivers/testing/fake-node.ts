/**
 * An in-memory Proxmox node behind the driver interfaces, for unit tests of the pipeline and the
 * daemon: guests with configs, run state, snapshots and `lock:`, templates on storages, GPUs and
 * device nodes. It follows the real tools' rules that matter to callers (locked guests refuse,
 * missing ones are NotFound, a template cannot start, no template with snapshots …) and counts
 * every call, mutating or not.
 */
import {
  AlreadyExistsError,
  CommandFailedError,
  FailedPreconditionError,
  LockedError,
  NotFoundError,
} from '@phoenix/shared';
import { parsePropertyString, formatPropertyString } from '../parse-config.js';
import type {
  CallStats,
  DeviceNodeFact,
  ExecResult,
  GpuSample,
  GuestConfig,
  GuestRunState,
  NodeDrivers,
  PctDriver,
  PveParams,
  QmDriver,
  RawLxcLine,
  SnapshotEntry,
} from '../types.js';

export interface FakeCall {
  tool: string;
  command: string;
  args: unknown[];
  mutating: boolean;
}

interface Snap {
  values: Record<string, string>;
  lxc: RawLxcLine[];
  parent: string | undefined;
  description: string;
}

export interface FakeGuest {
  kind: 'lxc' | 'vm';
  values: Record<string, string>;
  lxc: RawLxcLine[];
  status: GuestRunState;
  snapshots: Map<string, Snap>;
  files: Map<string, string>;
}

export type ExecHandler = (vmid: number, command: readonly string[], guest: FakeGuest, input?: string) => { exitCode: number; stdout?: string; stderr?: string };

let macSeq = 0;
const newMac = () => `BC:24:11:00:00:${(++macSeq % 256).toString(16).padStart(2, '0').toUpperCase()}`;

export class FakeNode implements NodeDrivers {
  readonly node: string;
  readonly calls: FakeCall[] = [];
  readonly guests = new Map<number, FakeGuest>();
  /** Template volids present on storages. */
  readonly templates = new Set<string>();
  /** Templates pveam can download (file names). */
  readonly downloadable = new Set<string>();
  gpus: GpuSample[] = [];
  devices: DeviceNodeFact[] = [];
  minorsByBusId: Record<string, number> = {};
  driverVersion: string | undefined = undefined;
  /** Errors thrown by the next calls of "tool command" (FIFO). */
  readonly failures = new Map<string, Error[]>();
  execHandler: ExecHandler = () => ({ exitCode: 0 });

  constructor(node = 'pve') {
    this.node = node;
  }

  // ---- test helpers -------------------------------------------------------------------------
  mutatingCalls(): FakeCall[] {
    return this.calls.filter((c) => c.mutating);
  }
  resetCalls(): void {
    this.calls.length = 0;
  }
  failNext(toolCommand: string, err: Error): void {
    const list = this.failures.get(toolCommand) ?? [];
    list.push(err);
    this.failures.set(toolCommand, list);
  }
  addGuest(vmid: number, kind: 'lxc' | 'vm', values: Record<string, string>, lxc: RawLxcLine[] = [], status: GuestRunState = 'stopped'): FakeGuest {
    const g: FakeGuest = { kind, values: { ...values }, lxc: [...lxc], status, snapshots: new Map(), files: new Map() };
    this.guests.set(vmid, g);
    return g;
  }
  /** One GPU per index with /dev/nvidia<i>, nvidiactl and uvm nodes (uvm major as given). */
  withGpus(count: number, uvmMajor = 511, driver = '580.76.05'): this {
    this.driverVersion = driver;
    this.gpus = Array.from({ length: count }, (_, i) => ({
      index: i,
      uuid: `GPU-${i}`,
      name: 'NVIDIA H100 80GB HBM3',
      pciBusId: `00000000:0${i + 1}:00.0`,
      driverVersion: driver,
      memoryTotalMib: 81559,
      memoryUsedMib: 0,
      memoryFreeMib: 81559,
      utilizationGpuPercent: 0,
      utilizationMemoryPercent: 0,
      temperatureC: 30,
      powerDrawW: 70,
      powerLimitW: 700,
      fanSpeedPercent: undefined,
      clockSmMhz: 1980,
      clockMemMhz: 2619,
      computeMode: 'Default',
      migMode: 'Disabled',
    }));
    this.devices = [
      ...this.gpus.map((g) => ({ path: `/dev/nvidia${g.index}`, major: 195, minor: g.index })),
      { path: '/dev/nvidiactl', major: 195, minor: 255 },
      { path: '/dev/nvidia-uvm', major: uvmMajor, minor: 0 },
      { path: '/dev/nvidia-uvm-tools', major: uvmMajor, minor: 1 },
    ];
    return this;
  }

  // ---- plumbing -------------------------------------------------------------------------------
  private record(tool: string, command: string, mutating: boolean, args: unknown[]): void {
    this.calls.push({ tool, command, args, mutating });
    const fail = this.failures.get(`${tool} ${command}`)?.shift();
    if (fail) throw fail;
  }
  private guest(vmid: number, kind: 'lxc' | 'vm'): FakeGuest {
    const g = this.guests.get(vmid);
    if (!g || g.kind !== kind) {
      throw new NotFoundError(`Configuration file 'nodes/${this.node}/${kind === 'lxc' ? 'lxc' : 'qemu-server'}/${vmid}.conf' does not exist`);
    }
    return g;
  }
  private checkLock(g: FakeGuest): void {
    if (g.values['lock']) throw new LockedError(`${g.kind === 'lxc' ? 'CT' : 'VM'} is locked (${g.values['lock']})`);
  }
  private cfg(g: { values: Record<string, string>; lxc: RawLxcLine[] }): GuestConfig {
    return { values: { ...g.values }, lxc: g.lxc.map((l) => ({ ...l })) };
  }
  private applyParams(vmid: number, g: FakeGuest, params: PveParams): void {
    for (const [k, raw] of Object.entries(params)) {
      let v = typeof raw === 'boolean' ? (raw ? '1' : '0') : String(raw);
      if (/^mp\d+$/.test(k) || k === 'rootfs') {
        const m = parsePropertyString(v, 'volume');
        const alloc = /^([^:/]+):(\d+)$/.exec(m.get('volume') ?? '');
        if (alloc) {
          const n = Object.keys(g.values).filter((x) => /^(rootfs|mp\d+)$/.test(x)).length;
          m.set('volume', `${alloc[1]}:subvol-${vmid}-disk-${n}`);
          m.set('size', `${alloc[2]}G`);
        }
        v = formatPropertyString(m, 'volume');
      }
      if (/^net\d+$/.test(k) && g.kind === 'lxc') {
        const m = parsePropertyString(v);
        if (!m.has('hwaddr')) m.set('hwaddr', newMac());
        v = formatPropertyString(m);
      }
      g.values[k] = v;
    }
  }

  stats(): CallStats {
    const mut = this.mutatingCalls();
    const by: Record<string, number> = {};
    for (const c of mut) by[`${c.tool} ${c.command}`] = (by[`${c.tool} ${c.command}`] ?? 0) + 1;
    return { total: this.calls.length, mutating: mut.length, readOnly: this.calls.length - mut.length, mutatingByCommand: by };
  }

  // ---- pct ------------------------------------------------------------------------------------
  readonly pct: PctDriver = {
    list: async () => {
      this.record('pct', 'list', false, []);
      return [...this.guests]
        .filter(([, g]) => g.kind === 'lxc')
        .sort(([a], [b]) => a - b)
        .map(([vmid, g]) => ({ vmid, status: g.status, lock: g.values['lock'] ?? '', name: g.values['hostname'] ?? `CT${vmid}` }));
    },
    config: async (vmid, o = {}) => {
      this.record('pct', 'config', false, [vmid, o.snapshot]);
      const g = this.guest(vmid, 'lxc');
      if (o.snapshot) {
        const s = g.snapshots.get(o.snapshot);
        if (!s) throw new NotFoundError(`snapshot '${o.snapshot}' does not exist`);
        return this.cfg(s);
      }
      return this.cfg(g);
    },
    status: async (vmid) => {
      this.record('pct', 'status', false, [vmid]);
      return this.guest(vmid, 'lxc').status;
    },
    create: async (vmid, tpl, params) => {
      this.record('pct', 'create', true, [vmid, tpl, params]);
      if (this.guests.has(vmid)) throw new AlreadyExistsError(`CT ${vmid} already exists on node '${this.node}'`);
      if (!tpl.startsWith('/') && !this.templates.has(tpl)) throw new NotFoundError(`volume '${tpl}' does not exist`);
      const g = this.addGuest(vmid, 'lxc', { arch: 'amd64', hostname: `CT${vmid}`, memory: '512', swap: '512', ostype: 'debian', unprivileged: '0' });
      this.applyParams(vmid, g, params);
    },
    clone: async (vmid, newid, o) => {
      this.record('pct', 'clone', true, [vmid, newid, o]);
      const src = this.guest(vmid, 'lxc');
      this.checkLock(src);
      if (this.guests.has(newid)) throw new AlreadyExistsError(`CT ${newid} already exists on node '${this.node}'`);
      const base = o.snapname ? src.snapshots.get(o.snapname) : src;
      if (!base) throw new NotFoundError(`snapshot '${o.snapname}' does not exist`);
      const template = src.values['template'] === '1';
      if (!(o.full ?? !template) && !template) throw new FailedPreconditionError("Linked clone feature for 'rootfs' is not available");
      const values = { ...base.values };
      for (const k of ['parent', 'template', 'snaptime', 'lock']) delete values[k];
      for (const [k, v] of Object.entries(values)) {
        if (/^net\d+$/.test(k)) {
          const m = parsePropertyString(v);
          m.set('hwaddr', newMac());
          values[k] = formatPropertyString(m);
        }
        if (k === 'rootfs' || /^mp\d+$/.test(k)) values[k] = v.replace(new RegExp(`-${vmid}-`), `-${newid}-`);
      }
      if (o.name) values['hostname'] = o.name;
      const g = this.addGuest(newid, 'lxc', values, base.lxc);
      g.files = new Map(src.files);
    },
    set: async (vmid, params, del) => {
      this.record('pct', 'set', true, [vmid, params, del]);
      const g = this.guest(vmid, 'lxc');
      this.checkLock(g);
      for (const k of del) delete g.values[k];
      this.applyParams(vmid, g, params);
    },
    resize: async (vmid, disk, size) => {
      this.record('pct', 'resize', true, [vmid, disk, size]);
      const g = this.guest(vmid, 'lxc');
      this.checkLock(g);
      const m = parsePropertyString(g.values[disk] ?? '', 'volume');
      m.set('size', size.replace(/^\+/, ''));
      g.values[disk] = formatPropertyString(m, 'volume');
    },
    start: async (vmid) => {
      this.record('pct', 'start', true, [vmid]);
      const g = this.guest(vmid, 'lxc');
      this.checkLock(g);
      if (g.values['template'] === '1') throw new FailedPreconditionError("you can't start a CT if it's a template");
      if (g.status === 'running') throw new FailedPreconditionError(`CT ${vmid} already running`);
      g.status = 'running';
    },
    stop: async (vmid) => {
      this.record('pct', 'stop', true, [vmid]);
      const g = this.guest(vmid, 'lxc');
      if (g.status !== 'running') throw new FailedPreconditionError(`CT ${vmid} not running`);
      g.status = 'stopped';
    },
    shutdown: async (vmid) => {
      this.record('pct', 'shutdown', true, [vmid]);
      const g = this.guest(vmid, 'lxc');
      if (g.status !== 'running') throw new FailedPreconditionError(`CT ${vmid} not running`);
      g.status = 'stopped';
    },
    destroy: async (vmid, o) => {
      this.record('pct', 'destroy', true, [vmid, o]);
      const g = this.guest(vmid, 'lxc');
      this.checkLock(g);
      if (g.status === 'running' && !o.force) throw new FailedPreconditionError(`unable to destroy CT ${vmid} - container is running`);
      this.guests.delete(vmid);
    },
    snapshot: async (vmid, name, description) => {
      this.record('pct', 'snapshot', true, [vmid, name, description]);
      const g = this.guest(vmid, 'lxc');
      if (g.values['template'] === '1') throw new FailedPreconditionError("you can't take a snapshot if it's a template");
      this.checkLock(g);
      if (g.snapshots.has(name)) throw new AlreadyExistsError(`snapshot name '${name}' already used`);
      const values: Record<string, string> = { ...g.values, snaptime: String(Date.now()) };
      delete values['parent'];
      // Like PVE (__snapshot_copy_config): the guest description is not copied; the snapshot's
      // comment is the snapshot section's description.
      delete values['description'];
      if (description) values['description'] = description;
      g.snapshots.set(name, { values, lxc: g.lxc.map((l) => ({ ...l })), parent: g.values['parent'], description: description ?? '' });
      g.values['parent'] = name;
    },
    delsnapshot: async (vmid, name) => {
      this.record('pct', 'delsnapshot', true, [vmid, name]);
      const g = this.guest(vmid, 'lxc');
      this.checkLock(g);
      const s = g.snapshots.get(name);
      if (!s) throw new NotFoundError(`snapshot '${name}' does not exist`);
      g.snapshots.delete(name);
      if (g.values['parent'] === name) {
        if (s.parent) g.values['parent'] = s.parent;
        else delete g.values['parent'];
      }
    },
    listSnapshots: async (vmid) => {
      this.record('pct', 'listsnapshot', false, [vmid]);
      const g = this.guest(vmid, 'lxc');
      return [...g.snapshots].map(([name, s]): SnapshotEntry => ({ name, parent: s.parent, time: '2026-01-01 00:00:00', description: s.description || 'no-description' }));
    },
    rollback: async (vmid, name, start) => {
      this.record('pct', 'rollback', true, [vmid, name, start]);
      const g = this.guest(vmid, 'lxc');
      this.checkLock(g);
      const s = g.snapshots.get(name);
      if (!s) throw new NotFoundError(`snapshot '${name}' does not exist`);
      g.values = { ...s.values, parent: name };
      delete g.values['snaptime'];
      g.lxc = s.lxc.map((l) => ({ ...l }));
      g.status = start ? 'running' : 'stopped';
    },
    template: async (vmid) => {
      this.record('pct', 'template', true, [vmid]);
      const g = this.guest(vmid, 'lxc');
      this.checkLock(g);
      if (g.snapshots.size > 0) throw new FailedPreconditionError('unable to create template, because CT contains snapshots');
      if (g.status === 'running') throw new FailedPreconditionError("you can't convert a CT to template if the CT is running");
      g.values['template'] = '1';
    },
    unlock: async (vmid) => {
      this.record('pct', 'unlock', true, [vmid]);
      const g = this.guest(vmid, 'lxc');
      if (!g.values['lock']) throw new CommandFailedError('no lock found trying to remove any lock');
      delete g.values['lock'];
    },
    exec: async (vmid, command, o): Promise<ExecResult> => {
      this.record('pct', 'exec', o.mutating, [vmid, command]);
      const g = this.guest(vmid, 'lxc');
      if (g.status !== 'running') throw new FailedPreconditionError(`container '${vmid}' not running!`);
      const r = this.execHandler(vmid, command, g, o.input);
      for (const line of (r.stdout ?? '').split('\n')) if (line) o.onLine?.(line, 'stdout');
      for (const line of (r.stderr ?? '').split('\n')) if (line) o.onLine?.(line, 'stderr');
      return { exitCode: r.exitCode, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
    push: async (vmid, local, dest) => {
      this.record('pct', 'push', true, [vmid, local, dest]);
      const g = this.guest(vmid, 'lxc');
      if (g.status !== 'running') throw new FailedPreconditionError(`container '${vmid}' not running!`);
      const { readFile } = await import('node:fs/promises');
      g.files.set(dest, await readFile(local, 'utf8'));
    },
  };

  // ---- qm (enough for the VM pipeline) ----------------------------------------------------------
  readonly qm: QmDriver = {
    list: async () => {
      this.record('qm', 'list', false, []);
      return [...this.guests]
        .filter(([, g]) => g.kind === 'vm')
        .map(([vmid, g]) => ({ vmid, name: g.values['name'] ?? `VM ${vmid}`, status: g.status, memoryMib: Number(g.values['memory'] ?? 512), bootDiskGib: 0, pid: 0 }));
    },
    config: async (vmid, o = {}) => {
      this.record('qm', 'config', false, [vmid, o.snapshot]);
      const g = this.guest(vmid, 'vm');
      if (o.snapshot) {
        const s = g.snapshots.get(o.snapshot);
        if (!s) throw new NotFoundError(`snapshot '${o.snapshot}' does not exist`);
        return this.cfg(s);
      }
      return this.cfg(g);
    },
    status: async (vmid) => {
      this.record('qm', 'status', false, [vmid]);
      return this.guest(vmid, 'vm').status;
    },
    create: async (vmid, params) => {
      this.record('qm', 'create', true, [vmid, params]);
      if (this.guests.has(vmid)) throw new AlreadyExistsError(`unable to create VM ${vmid} - VM ${vmid} already exists on node '${this.node}'`);
      const g = this.addGuest(vmid, 'vm', { memory: '512', cores: '1' });
      for (const [k, raw] of Object.entries(params)) {
        const v = typeof raw === 'boolean' ? (raw ? '1' : '0') : String(raw);
        if (k === 'sshkeys') continue;
        g.values[k] = k === 'scsi0' ? `${v.split(':')[0]}:vm-${vmid}-disk-0,size=3584M` : v;
      }
      if (params['sshkeys'] !== undefined) {
        const { readFile } = await import('node:fs/promises');
        g.values['sshkeys'] = encodeURIComponent(await readFile(String(params['sshkeys']), 'utf8'));
      }
    },
    clone: async (vmid, newid, o) => {
      this.record('qm', 'clone', true, [vmid, newid, o]);
      const src = this.guest(vmid, 'vm');
      this.checkLock(src);
      const base = o.snapname ? src.snapshots.get(o.snapname) : src;
      if (!base) throw new NotFoundError(`snapshot '${o.snapname}' does not exist`);
      const values = { ...base.values };
      for (const k of ['parent', 'template', 'snaptime', 'lock']) delete values[k];
      if (o.name) values['name'] = o.name;
      this.addGuest(newid, 'vm', values);
    },
    set: async (vmid, params, del) => {
      this.record('qm', 'set', true, [vmid, params, del]);
      const g = this.guest(vmid, 'vm');
      this.checkLock(g);
      for (const k of del) delete g.values[k];
      for (const [k, raw] of Object.entries(params)) {
        const v = typeof raw === 'boolean' ? (raw ? '1' : '0') : String(raw);
        if (k === 'sshkeys') {
          const { readFile } = await import('node:fs/promises');
          g.values['sshkeys'] = encodeURIComponent(await readFile(v, 'utf8'));
        } else {
          g.values[k] = v;
        }
      }
    },
    resize: async (vmid, disk, size) => {
      this.record('qm', 'resize', true, [vmid, disk, size]);
      const g = this.guest(vmid, 'vm');
      const m = parsePropertyString(g.values[disk] ?? '', 'file');
      m.set('size', size);
      g.values[disk] = formatPropertyString(m, 'file');
    },
    importDisk: async (vmid, source, storage) => {
      this.record('qm', 'importdisk', true, [vmid, source, storage]);
    },
    start: async (vmid) => {
      this.record('qm', 'start', true, [vmid]);
      const g = this.guest(vmid, 'vm');
      this.checkLock(g);
      if (g.values['template'] === '1') throw new FailedPreconditionError("you can't start a vm if it's a template");
      g.status = 'running';
    },
    stop: async (vmid) => {
      this.record('qm', 'stop', true, [vmid]);
      this.guest(vmid, 'vm').status = 'stopped';
    },
    shutdown: async (vmid) => {
      this.record('qm', 'shutdown', true, [vmid]);
      this.guest(vmid, 'vm').status = 'stopped';
    },
    destroy: async (vmid) => {
      this.record('qm', 'destroy', true, [vmid]);
      const g = this.guest(vmid, 'vm');
      this.checkLock(g);
      this.guests.delete(vmid);
    },
    snapshot: async (vmid, name, description) => {
      this.record('qm', 'snapshot', true, [vmid, name]);
      const g = this.guest(vmid, 'vm');
      this.checkLock(g);
      const { description: _guestDescription, ...rest } = g.values;
      g.snapshots.set(name, { values: { ...rest, snaptime: '1', ...(description ? { description } : {}) }, lxc: [], parent: g.values['parent'], description: description ?? '' });
      g.values['parent'] = name;
    },
    delsnapshot: async (vmid, name) => {
      this.record('qm', 'delsnapshot', true, [vmid, name]);
      this.guest(vmid, 'vm').snapshots.delete(name);
    },
    listSnapshots: async (vmid) => {
      this.record('qm', 'listsnapshot', false, [vmid]);
      return [...this.guest(vmid, 'vm').snapshots.keys()].map((name) => ({ name, parent: undefined, time: undefined, description: '' }));
    },
    rollback: async (vmid, name) => {
      this.record('qm', 'rollback', true, [vmid, name]);
    },
    template: async (vmid) => {
      this.record('qm', 'template', true, [vmid]);
      const g = this.guest(vmid, 'vm');
      if (g.snapshots.size > 0) throw new FailedPreconditionError('unable to create template, because VM contains snapshots');
      g.values['template'] = '1';
    },
    unlock: async (vmid) => {
      this.record('qm', 'unlock', true, [vmid]);
      delete this.guest(vmid, 'vm').values['lock'];
    },
    cloudinitUpdate: async (vmid) => {
      this.record('qm', 'cloudinit update', true, [vmid]);
    },
    agentPing: async (vmid) => {
      this.record('qm', 'agent ping', false, [vmid]);
      if (this.guest(vmid, 'vm').status !== 'running') throw new CommandFailedError('QEMU guest agent is not running');
    },
    guestExec: async (vmid, command, o) => {
      this.record('qm', 'guest exec', o.mutating, [vmid, command]);
      const g = this.guest(vmid, 'vm');
      const r = this.execHandler(vmid, command, g, o.input);
      return { exitCode: r.exitCode, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
  };

  readonly pvesh = {
    get: async <T>(path: string): Promise<T> => {
      this.record('pvesh', 'get', false, [path]);
      const m = /^\/nodes\/[^/]+\/(lxc|qemu)$/.exec(path);
      if (m) {
        const kind = m[1] === 'lxc' ? 'lxc' : 'vm';
        return [...this.guests]
          .filter(([, g]) => g.kind === kind)
          .map(([vmid, g]) => ({
            vmid,
            name: g.values['hostname'] ?? g.values['name'] ?? '',
            status: g.status,
            ...(g.values['template'] === '1' ? { template: 1 } : {}),
            ...(g.values['lock'] ? { lock: g.values['lock'] } : {}),
            cpus: Number(g.values['cores'] ?? 1),
            maxmem: Number(g.values['memory'] ?? 512) * 1024 * 1024,
            mem: 0,
            maxdisk: 0,
            uptime: 0,
          })) as T;
      }
      throw new NotFoundError(`No 'get' handler defined for '${path}'`);
    },
    create: async <T>(path: string): Promise<T> => {
      this.record('pvesh', 'create', true, [path]);
      return undefined as T;
    },
    set: async <T>(path: string): Promise<T> => {
      this.record('pvesh', 'set', true, [path]);
      return undefined as T;
    },
    delete: async <T>(path: string): Promise<T> => {
      this.record('pvesh', 'delete', true, [path]);
      return undefined as T;
    },
    nextId: async () => {
      this.record('pvesh', 'get', false, ['/cluster/nextid']);
      let id = 100;
      while (this.guests.has(id)) id++;
      return id;
    },
  };

  readonly pvesm = {
    status: async () => {
      this.record('pvesm', 'status', false, []);
      return [];
    },
    add: async () => this.record('pvesm', 'add', true, []),
    set: async () => this.record('pvesm', 'set', true, []),
    remove: async () => this.record('pvesm', 'remove', true, []),
    free: async (volid: string) => this.record('pvesm', 'free', true, [volid]),
    path: async (volid: string) => {
      this.record('pvesm', 'path', false, [volid]);
      return `/var/lib/vz/template/iso/${volid.replace(/^.*\//, '')}`;
    },
  };

  readonly zfs = {
    list: async () => {
      this.record('zfs', 'list', false, []);
      return [];
    },
    get: async () => {
      this.record('zfs', 'get', false, []);
      return {};
    },
    create: async () => this.record('zfs', 'create', true, []),
    set: async () => this.record('zfs', 'set', true, []),
    poolList: async () => {
      this.record('zpool', 'list', false, []);
      return [];
    },
  };

  readonly pveam = {
    list: async (storage: string) => {
      this.record('pveam', 'list', false, [storage]);
      return [...this.templates].filter((t) => t.startsWith(`${storage}:`)).map((volid) => ({ volid, sizeMib: 120 }));
    },
    available: async () => {
      this.record('pveam', 'available', false, []);
      return [...this.downloadable].map((template) => ({ section: 'system', template, arch: 'amd64' }));
    },
    update: async () => this.record('pveam', 'update', true, []),
    download: async (storage: string, template: string) => {
      this.record('pveam', 'download', true, [storage, template]);
      if (!this.downloadable.has(template)) throw new NotFoundError('template: no such template');
      this.templates.add(`${storage}:vztmpl/${template}`);
    },
  };

  readonly nvidia = {
    queryGpus: async () => {
      this.record('nvidiaSmi', 'query-gpu', false, []);
      return this.gpus.map((g) => ({ ...g }));
    },
    versions: async () => {
      this.record('nvidiaSmi', 'summary', false, []);
      return { driverVersion: this.driverVersion, cudaVersion: this.driverVersion ? '13.0' : undefined };
    },
  };

  readonly lxcConf = {
    readRaw: async (vmid: number) => this.guest(vmid, 'lxc').lxc.map((l) => ({ ...l })),
    writeRaw: async (vmid: number, lines: readonly RawLxcLine[]) => {
      this.record('lxc-conf', 'write', true, [vmid, lines]);
      this.guest(vmid, 'lxc').lxc = lines.map((l) => ({ ...l }));
    },
  };

  readonly facts = {
    nvidia: async () => ({ driverVersion: this.driverVersion, devices: this.devices.map((d) => ({ ...d })), minorsByBusId: { ...this.minorsByBusId } }),
  };
}
