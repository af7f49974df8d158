import type { GuestConfig } from '../core/config-file.js';
import type { GuestType, State } from '../core/state.js';
import { isTemplate, listVmids, loadConfig } from './guest-store.js';

/** What PVE::LXC::vmstatus and PVE::QemuServer::vmstatus have in common. */
export type StatusValue = string | number | Record<string, number | string>;

export type GuestStatus = Record<string, StatusValue>;

/** The activity counters, as a stopped guest reports them (a running one overwrites them). */
export function idleCounters(): GuestStatus {
  return { uptime: 0, cpu: 0, netin: 0, netout: 0, diskread: 0, diskwrite: 0 };
}

/** template, lock and tags, taken from the config the same way by both kinds. */
export function addConfigFlags(d: GuestStatus, conf: GuestConfig): void {
  if (isTemplate(conf)) d['template'] = 1;
  if (conf.props['lock']) d['lock'] = conf.props['lock'];
  if (conf.props['tags']) d['tags'] = conf.props['tags'];
}

/** Pressure stall counters of a running guest's cgroup (idle in the emulator). */
export function addPressure(d: GuestStatus): void {
  for (const res of ['cpu', 'io', 'memory']) {
    d[`pressure${res}some`] = 0;
    d[`pressure${res}full`] = 0;
  }
}

/** The status of every guest of one kind. */
export function allStatus(state: State, type: GuestType, status: (vmid: number, conf: GuestConfig) => GuestStatus): GuestStatus[] {
  const out: GuestStatus[] = [];
  for (const vmid of listVmids(state, type)) {
    try {
      out.push(status(vmid, loadConfig(undefined, state, type, vmid)));
    } catch {
      // config vanished between listing and reading (concurrent destroy)
    }
  }
  return out;
}
