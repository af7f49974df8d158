import type { GuestConfig } from './config-file.js';
import { isRunning, isTemplate, listVmids, loadConfig, runState } from './guest-store.js';
import { configVolumes, rootfsSize } from './lxc-config.js';
import type { State } from './state.js';
import { volumeUsed } from './storage.js';

/** PVE::LXC::vmstatus for one container, with emulated counters. */
export type StatusValue = string | number | Record<string, number | string>;

export function lxcStatus(state: State, vmid: number, conf: GuestConfig): Record<string, StatusValue> {
  const props = conf.props;
  const running = isRunning(state, 'lxc', vmid);
  const rs = running ? runState(state, 'lxc', vmid) : undefined;
  const node = state.readNode();
  const maxmem = Number(props['memory'] ?? 512) * 1024 * 1024;
  const maxswap = Number(props['swap'] ?? 512) * 1024 * 1024;
  const cores = Number(props['cores'] ?? 0) || Math.ceil(Number(props['cpulimit'] ?? 0)) || node.cpus;
  const d: Record<string, StatusValue> = {
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
    uptime: 0,
    cpu: 0,
    netin: 0,
    netout: 0,
    diskread: 0,
    diskwrite: 0,
  };
  if (isTemplate(conf)) d['template'] = 1;
  if (props['lock']) d['lock'] = props['lock'];
  if (props['tags']) d['tags'] = props['tags'];
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
    d['pressurecpusome'] = 0;
    d['pressurecpufull'] = 0;
    d['pressureiosome'] = 0;
    d['pressureiofull'] = 0;
    d['pressurememorysome'] = 0;
    d['pressurememoryfull'] = 0;
  }
  return d;
}

export function allLxcStatus(state: State): Array<Record<string, StatusValue>> {
  const out: Array<Record<string, StatusValue>> = [];
  for (const vmid of listVmids(state, 'lxc')) {
    try {
      out.push(lxcStatus(state, vmid, loadConfig(undefined, state, 'lxc', vmid)));
    } catch {
      // config vanished between listing and reading (concurrent destroy)
    }
  }
  return out;
}
