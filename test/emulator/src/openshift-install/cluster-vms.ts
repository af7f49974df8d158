import path from 'node:path';
import { State } from '../core/state.js';
import { isRunning, listVmids, loadConfig } from '../guest-common/guest-store.js';
import { volumePath } from '../pvesm/storage.js';
import { parseDrive, registerQemuFormats } from '../qm/qemu-config.js';
import { isoInstallId, readHead } from './artifacts.js';
import type { HostRecord } from './install-state.js';

/**
 * The cluster's hosts as VMs on the emulated PVE nodes (PHOENIX_EMULATOR_NODES: state
 * directories joined by path.delimiter). A host has booted the agent ISO when a VM with one of
 * its MACs is running and its ide2 cdrom resolves, through that node's storage as `pvesm path`
 * resolves it, to this install's ISO.
 */
export interface HostVm {
  node: string;
  vmid: number;
  running: boolean;
  /** Install id of the ISO in ide2, when it is an emulated agent ISO. */
  isoInstallId?: string;
}

export function nodeDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env['PHOENIX_EMULATOR_NODES'] ?? '').split(path.delimiter).filter((d) => d !== '');
}

function macsOf(props: Record<string, string>): string[] {
  return Object.entries(props)
    .filter(([k]) => /^net\d+$/.test(k))
    .map(([, v]) => /=([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})/.exec(v)?.[1]?.toLowerCase())
    .filter((m): m is string => m !== undefined);
}

function cdromInstallId(state: State, ide2: string | undefined): string | undefined {
  if (!ide2) return undefined;
  const file = parseDrive('ide2', ide2)?.['file'];
  if (!file || file === 'none' || file === 'cdrom') return undefined;
  try {
    const p = file.startsWith('/') ? file : volumePath(state, file);
    const head = readHead(p);
    return head === undefined ? undefined : isoInstallId(head);
  } catch {
    return undefined;
  }
}

/** Every qemu VM on the nodes, keyed by MAC (lower case). */
function vmsByMac(dirs: string[]): Map<string, HostVm> {
  registerQemuFormats();
  const out = new Map<string, HostVm>();
  for (const dir of dirs) {
    let state: State;
    try {
      const probe = new State({ stateDir: path.resolve(dir), node: 'pve', timeScale: 1 });
      state = new State({ stateDir: path.resolve(dir), node: probe.readNode().name, timeScale: 1 });
    } catch {
      continue;
    }
    for (const vmid of listVmids(state, 'qemu')) {
      let props: Record<string, string>;
      try {
        props = loadConfig(undefined, state, 'qemu', vmid).props;
      } catch {
        continue;
      }
      const id = cdromInstallId(state, props['ide2']);
      const vm: HostVm = { node: state.node, vmid, running: isRunning(state, 'qemu', vmid), ...(id !== undefined ? { isoInstallId: id } : {}) };
      for (const mac of macsOf(props)) out.set(mac, vm);
    }
  }
  return out;
}

/** Host name → whether it runs this install's ISO. */
export function bootedHosts(dirs: string[], hosts: HostRecord[], installId: string): Map<string, boolean> {
  const vms = vmsByMac(dirs);
  return new Map(
    hosts.map((h) => {
      const vm = h.macs.map((m) => vms.get(m.toLowerCase())).find((v) => v !== undefined);
      return [h.hostname, vm !== undefined && vm.running && vm.isoInstallId === installId];
    }),
  );
}
