import fs from 'node:fs';
import { readJson, writeJson } from '../core/atomic-file.js';
import type { Ctx } from '../core/ctx.js';
import { die, raiseParamExc } from '../core/errors.js';
import { guestTypeOf, isRunning, listVmids, loadConfig } from '../guest-common/guest-store.js';
import type { StatusValue } from '../guest-common/guest-status.js';
import { lxcStatus } from '../pct/lxc-status.js';
import { processAlive } from '../core/lock.js';
import { storageIndex } from '../pvesm/pvesm.js';
import { qemuStatus } from '../qm/qemu-status.js';
import type { GuestType, State } from '../core/state.js';

/** Data behind the emulated API paths that pvesh serves. */

export function nextId(ctx: Ctx, vmid?: string): string {
  const node = ctx.state.readNode();
  if (vmid !== undefined) {
    if (guestTypeOf(ctx.state, vmid)) raiseParamExc([['vmid', `VM ${vmid} already exists`]]);
    return vmid;
  }
  const used = new Set([...listVmids(ctx.state, 'lxc'), ...listVmids(ctx.state, 'qemu')]);
  for (let i = node.nextId.lower; i < node.nextId.upper; i++) if (!used.has(i)) return String(i);
  return die(`unable to get any free VMID in range [${node.nextId.lower}, ${node.nextId.upper}]`);
}

function guestMem(state: State): number {
  let sum = 0;
  for (const t of ['lxc', 'qemu'] as GuestType[]) {
    for (const vmid of listVmids(state, t)) {
      if (!isRunning(state, t, vmid)) continue;
      try {
        const conf = loadConfig(undefined, state, t, vmid);
        const s = t === 'lxc' ? lxcStatus(state, vmid, conf) : qemuStatus(state, vmid, conf);
        sum += Number(s['mem'] ?? 0);
      } catch {
        // concurrently destroyed
      }
    }
  }
  return sum;
}

export function nodeStatus(ctx: Ctx): Record<string, unknown> {
  const n = ctx.state.readNode();
  const total = n.memoryMb * 1024 * 1024;
  const used = Math.min(total, 2 * 1024 ** 3 + guestMem(ctx.state));
  const swapTotal = n.swapMb * 1024 * 1024;
  const rootUsed = 3 * 1024 ** 3;
  return {
    'boot-info': { mode: 'efi', secureboot: 0 },
    cpu: 0.0123,
    cpuinfo: {
      cores: Math.max(1, Math.floor(n.cpus / n.sockets)),
      cpus: n.cpus,
      flags: 'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx lm constant_tsc rep_good nopl cpuid pni ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm svm avx2',
      hvm: '1',
      mhz: '2999.998',
      model: n.cpuModel,
      sockets: n.sockets,
      user_hz: 100,
    },
    'current-kernel': { machine: 'x86_64', release: n.kernelRelease, sysname: 'Linux', version: n.kernelVersion },
    idle: 0,
    ksm: { shared: 0 },
    kversion: `Linux ${n.kernelRelease} ${n.kernelVersion}`,
    loadavg: ['0.12', '0.09', '0.05'],
    memory: { available: total - used, free: total - used, total, used },
    pveversion: n.pveVersion,
    rootfs: { avail: n.rootfsBytes - rootUsed, free: n.rootfsBytes - rootUsed, total: n.rootfsBytes, used: rootUsed },
    swap: { free: swapTotal, total: swapTotal, used: 0 },
    uptime: Math.floor(Date.now() / 1000) - n.bootTime,
    wait: 0,
  };
}

export function guestStatusCurrent(ctx: Ctx, type: GuestType, vmid: number): Record<string, StatusValue> {
  const conf = loadConfig(ctx, ctx.state, type, vmid);
  const d = type === 'lxc' ? lxcStatus(ctx.state, vmid, conf) : qemuStatus(ctx.state, vmid, conf, true);
  d['ha'] = { managed: 0 };
  if (type === 'qemu' && conf.props['agent'] !== undefined) d['agent'] = /^(1|enabled=1)/.test(conf.props['agent']) ? 1 : 0;
  return d;
}

interface RrdSample {
  tick: number;
  guests: Record<string, Record<string, StatusValue>>;
}

/** pvestatd writes RRD data every 10 s; /cluster/resources shows guest status from the last sample. */
function rrdSample(ctx: Ctx): RrdSample {
  const file = ctx.state.file('rrd.json');
  const period = ctx.state.clock.ms(10) || 1;
  const tick = Math.floor(Date.now() / period);
  const cur = readJson<RrdSample | undefined>(file, undefined);
  if (cur && cur.tick === tick) return cur;
  const guests: Record<string, Record<string, StatusValue>> = {};
  for (const t of ['lxc', 'qemu'] as GuestType[]) {
    for (const vmid of listVmids(ctx.state, t)) {
      try {
        const conf = loadConfig(undefined, ctx.state, t, vmid);
        guests[`${t}/${vmid}`] = t === 'lxc' ? lxcStatus(ctx.state, vmid, conf) : qemuStatus(ctx.state, vmid, conf);
      } catch {
        // concurrently destroyed
      }
    }
  }
  const sample = { tick, guests };
  try {
    writeJson(file, sample);
  } catch {
    // the sample is a cache only
  }
  return sample;
}

export function clusterResources(ctx: Ctx, type?: string): Array<Record<string, unknown>> {
  const state = ctx.state;
  const node = state.node;
  const res: Array<Record<string, unknown>> = [];
  if (!type || type === 'vm') {
    const rrd = rrdSample(ctx);
    for (const t of ['qemu', 'lxc'] as GuestType[]) {
      for (const vmid of listVmids(state, t)) {
        const id = `${t}/${vmid}`;
        const e: Record<string, unknown> = { id, vmid, node, type: t };
        let conf;
        try {
          conf = loadConfig(undefined, state, t, vmid);
        } catch {
          continue;
        }
        const s = rrd.guests[id];
        if (s) {
          Object.assign(e, {
            status: s['status'],
            name: s['name'],
            template: s['template'] ? 1 : 0,
            maxcpu: s['cpus'],
            cpu: s['cpu'],
            maxmem: s['maxmem'],
            mem: s['mem'],
            maxdisk: s['maxdisk'],
            disk: s['disk'],
            netin: s['netin'],
            netout: s['netout'],
            diskread: s['diskread'],
            diskwrite: s['diskwrite'],
            uptime: s['uptime'],
          });
          if (t === 'qemu') e['memhost'] = s['memhost'] ?? 0;
        } else {
          e['status'] = 'unknown';
        }
        if (conf.props['lock']) e['lock'] = conf.props['lock'];
        if (conf.props['tags']) e['tags'] = conf.props['tags'];
        res.push(e);
      }
    }
  }
  if (!type || type === 'storage') {
    // Disabled storages are left out (storage_check_enabled); sizes come from pvestatd's RRD
    // sample, which it writes for active storages only (PM:PVE/API2Tools.pm extract_storage_stats).
    for (const r of storageIndex(ctx, { enabled: true })) {
      const def = state.readStorageConfig().storages[r.storage];
      res.push({
        id: `storage/${node}/${r.storage}`,
        storage: r.storage,
        node,
        type: 'storage',
        plugintype: def?.type ?? r.type,
        status: r.active ? 'available' : 'unknown',
        shared: r.shared,
        content: r.content,
        ...(r.active ? { maxdisk: r.total, disk: r.used } : {}),
      });
    }
  }
  if (!type || type === 'node') {
    const n = state.readNode();
    const st = nodeStatus(ctx);
    const mem = st['memory'] as { used: number; total: number };
    const rootfs = st['rootfs'] as { used: number; total: number };
    res.push({
      id: `node/${node}`,
      node,
      type: 'node',
      status: 'online',
      level: '',
      cpu: st['cpu'],
      maxcpu: n.cpus,
      mem: mem.used,
      maxmem: mem.total,
      disk: rootfs.used,
      maxdisk: rootfs.total,
      uptime: st['uptime'],
      'cgroup-mode': 2,
    });
  }
  if (!type || type === 'sdn') res.push({ id: `sdn/${node}/localnetwork`, sdn: 'localnetwork', node, type: 'sdn', status: 'ok' });
  return res;
}

export interface TaskStatus {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
  status: string;
  exitstatus?: string;
}

export function taskStatus(ctx: Ctx, upid: string): TaskStatus {
  const m = /^UPID:([^:]+):([0-9A-F]{8}):([0-9A-F]{8,9}):([0-9A-F]{8}):([^:]*):([^:]*):([^:]+):$/.exec(upid);
  if (!m) raiseParamExc([['upid', 'unable to parse worker upid']]);
  let status: string | undefined;
  try {
    for (const line of fs.readFileSync(ctx.state.file('tasks', 'index'), 'utf8').split('\n')) {
      if (line.startsWith(`${upid} `)) status = line.slice(upid.length + 1);
    }
  } catch {
    // no tasks yet
  }
  const base: TaskStatus = {
    upid,
    node: m[1] ?? '',
    pid: parseInt(m[2] ?? '0', 16),
    pstart: parseInt(m[3] ?? '0', 16),
    starttime: parseInt(m[4] ?? '0', 16),
    type: m[5] ?? '',
    id: m[6] ?? '',
    user: m[7] ?? '',
    status: status === undefined ? 'running' : 'stopped',
  };
  if (status === undefined && !processAlive(base.pid, '0')) {
    base.status = 'stopped';
    base.exitstatus = 'unexpected status';
  }
  if (status !== undefined) base.exitstatus = status === 'TASK OK' ? 'OK' : status.replace(/^TASK ERROR: /, '').replace(/^TASK WARNINGS: (\d+)/, 'WARNINGS: $1');
  return base;
}

/**
 * `/nodes/{node}/network`: the node's interfaces as PVE lists them (bridges only here, plus the
 * physical port behind the first). `type` filters like PVE: bridge, any_bridge, eth.
 */
export function nodeNetwork(ctx: Ctx, type: string | undefined): Record<string, unknown>[] {
  const n = ctx.state.readNode();
  const bridges = n.bridges.map((iface, i) => ({
    iface,
    type: 'bridge',
    active: 1,
    autostart: 1,
    bridge_ports: i === 0 ? 'eno1' : '',
    bridge_stp: 'off',
    bridge_fd: '0',
    families: ['inet'],
    method: i === 0 ? 'static' : 'manual',
    method6: 'manual',
    priority: 3 + i,
    ...(i === 0 ? { cidr: '10.0.0.13/24', address: '10.0.0.13', netmask: '24', gateway: '10.0.0.1' } : {}),
  }));
  const eth = [{ iface: 'eno1', type: 'eth', active: 1, exists: 1, families: ['inet'], method: 'manual', method6: 'manual', priority: 2 }];
  if (type === 'bridge' || type === 'any_bridge') return bridges;
  if (type === 'eth') return eth;
  return [...eth, ...bridges];
}
