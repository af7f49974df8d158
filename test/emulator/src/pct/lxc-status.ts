import type { GuestConfig } from '../core/config-file.js';
import { addConfigFlags, addPressure, allStatus, idleCounters, type GuestStatus } from '../guest-common/guest-status.js';
import { isRunning, runState } from '../guest-common/guest-store.js';
import { configVolumes, rootfsSize } from './lxc-config.js';
import type { State } from '../core/state.js';
import { volumeUsed } from '../pvesm/storage.js';

/** PVE::LXC::vmstatus for one container, with emulated counters. */
export function lxcStatus(state: State, vmid: number, conf: GuestConfig): GuestStatus {
  const props = conf.props;
  const running = isRunning(state, 'lxc', vmid);
  const rs = running ? runState(state, 'lxc', vmid) : undefined;
  const node = state.readNode();
  const maxmem = Number(props['memory'] ?? 512) * 1024 * 1024;
  const maxswap = Number(props['swap'] ?? 512) * 1024 * 1024;
  const cores = Number(props['cores'] ?? 0) || Math.ceil(Number(props['cpulimit'] ?? 0)) || node.cpus;
  const d: GuestStatus = {
    vmid,
    type: 'lxc',
    status: running ? 'running' : 'stopped',
    name: (props['hostname'] ?? `CT${vmid}`).replace(/\s/g, ''),
    cpus: cores,
    maxmem,
    maxswap,
    maxdisk: rootfsSize(conf),
    disk: 0,
    mem: 0,
    swap: 0,
    ...idleCounters(),
  };
  addConfigFlags(d, conf);
  if (running && rs) {
    const uptime = Math.max(0, Math.floor((Date.now() - rs.startedAt) / 1000));
    const root = configVolumes(props).find(([k]) => k === 'rootfs');
    d['disk'] = root ? volumeUsed(state, root[1].volume) : 0;
    d['mem'] = Math.min(maxmem, 48 * 1024 * 1024 + (vmid % 17) * 1024 * 1024);
    d['uptime'] = uptime;
    d['cpu'] = 0.0012;
    d['netin'] = uptime * 1400;
    d['netout'] = uptime * 300;
    d['diskread'] = 52_000_000;
    d['diskwrite'] = uptime * 20_000;
    d['pid'] = rs.pid;
    addPressure(d);
  }
  return d;
}

export function allLxcStatus(state: State): GuestStatus[] {
  return allStatus(state, 'lxc', (vmid, conf) => lxcStatus(state, vmid, conf));
}
