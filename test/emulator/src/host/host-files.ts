import fs from 'node:fs';
import path from 'node:path';
import type { State } from '../core/state.js';

/**
 * The node's own file system, below `$PVE_EMU_STATE/host` (the agent's `tools.hostRoot`): /etc files,
 * the kernel's AppArmor and ZFS parameter files. A fresh node holds what a PVE 9 install has.
 */

export function hostDir(state: State): string {
  return state.file('host');
}

export function hostFile(state: State, nodePath: string): string {
  return path.join(hostDir(state), nodePath);
}

export function readHostFile(state: State, nodePath: string): string | undefined {
  try {
    return fs.readFileSync(hostFile(state, nodePath), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function writeHostFile(state: State, nodePath: string, content: string): void {
  const file = hostFile(state, nodePath);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

/** Node paths given to a tool may be real paths below the host directory (the agent adds its host root). */
export function toNodePath(state: State, given: string): string {
  const root = hostDir(state);
  return given.startsWith(`${root}/`) ? given.slice(root.length) : given;
}

export const APPARMOR_PROFILES_FILE = '/sys/kernel/security/apparmor/profiles';
export const ARC_MAX_FILE = '/sys/module/zfs/parameters/zfs_arc_max';

/** The profiles lxc-pve loads on a PVE node (/etc/apparmor.d/lxc/lxc-default*), plus lxc-start's own. */
const STOCK_PROFILES = [
  '/usr/bin/lxc-start',
  'lxc-container-default',
  'lxc-container-default-cgns',
  'lxc-container-default-with-mounting',
  'lxc-container-default-with-nesting',
];

/** What a PVE install leaves on the host: root's subordinate ids, the stock LXC profiles, ZFS' ARC default. */
export function initHostFiles(state: State): void {
  writeHostFile(state, '/etc/subuid', 'root:100000:65536\n');
  writeHostFile(state, '/etc/subgid', 'root:100000:65536\n');
  fs.mkdirSync(hostFile(state, '/etc/apparmor.d'), { recursive: true });
  writeHostFile(state, APPARMOR_PROFILES_FILE, STOCK_PROFILES.map((p) => `${p} (enforce)\n`).join(''));
  writeHostFile(state, ARC_MAX_FILE, '0\n');
}

export function removeHostFile(state: State, nodePath: string): void {
  fs.rmSync(hostFile(state, nodePath), { force: true });
}
