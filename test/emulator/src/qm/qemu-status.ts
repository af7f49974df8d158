import type { GuestConfig } from '../core/config-file.js';
import { addConfigFlags, addPressure, allStatus, idleCounters, type GuestStatus } from '../guest-common/guest-status.js';
import { isRunning, runState } from '../guest-common/guest-store.js';
import { bootDisk, memoryMiB, parseDrive, vcpus } from './qemu-config.js';
import type { State } from '../core/state.js';
import { volumeExists, volumeSize } from '../pvesm/storage.js';

/** PVE::QemuServer::vmstatus for one VM, with emulated counters. */
export function qemuStatus(state: State, vmid: number, conf: GuestConfig, full = false): GuestStatus {
  const props = conf.props;
  const running = isRunning(state, 'qemu', vmid);
  const rs = running ? runState(state, 'qemu', vmid) : undefined;
  const maxmem = memoryMiB(props) * 1024 * 1024;
  let maxdisk = 0;
  const bd = bootDisk(props);
  if (bd) {
    const d = parseDrive(bd, props[bd] ?? '');
    const file = d?.['file'];
    if (d?.['size']) {
      const m = /^(\d+(?:\.\d+)?)([KMGT])?$/.exec(d['size']);
      const mult: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
      if (m) maxdisk = Math.round(Number(m[1]) * (mult[m[2] ?? ''] ?? 1));
    } else if (file && file.includes(':') && volumeExists(state, file)) {
      maxdisk = volumeSize(state, file);
    }
  }
  const d: GuestStatus = {
    vmid,
    status: running ? 'running' : 'stopped',
    name: props['name'] ?? `VM ${vmid}`,
    cpus: vcpus(props),
    maxmem,
    mem: 0,
    memhost: 0,
    maxdisk,
    disk: 0,
    ...idleCounters(),
  };
  addConfigFlags(d, conf);
  if (/^socket$/.test(props['serial0'] ?? '')) d['serial'] = 1;
  if (running && rs) {
    const uptime = Math.max(0, Math.floor((Date.now() - rs.startedAt) / 1000));
    d['pid'] = rs.pid;
    d['uptime'] = uptime;
    d['mem'] = Math.floor(maxmem * 0.35);
    d['memhost'] = Math.floor(maxmem * 0.4);
    d['cpu'] = 0.0105;
    d['netin'] = uptime * 2000;
    d['netout'] = uptime * 500;
    d['diskread'] = 180_000_000;
    d['diskwrite'] = uptime * 40_000;
    addPressure(d);
  }
  if (full) {
    d['qmpstatus'] = running ? (rs?.qmpstatus ?? 'running') : 'stopped';
    if (running) {
      d['running-machine'] = 'pc-i440fx-10.1+pve0';
      d['running-qemu'] = '10.1.2';
      d['balloon'] = maxmem;
    }
  }
  return d;
}

export function allQemuStatus(state: State, full = false): GuestStatus[] {
  return allStatus(state, 'qemu', (vmid, conf) => qemuStatus(state, vmid, conf, full));
}
