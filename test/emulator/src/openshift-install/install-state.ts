import fs from 'node:fs';
import path from 'node:path';
import { readJson, writeJson } from '../core/atomic-file.js';

/**
 * `.openshift_install_state.json`: what `agent create image` decided and `agent wait-for` needs
 * (cluster identity, the hosts and their MACs, the install id embedded in the ISO), plus the
 * cluster's progress once its hosts have booted.
 */
export interface HostRecord {
  hostname: string;
  role: 'master' | 'worker';
  macs: string[];
}

export interface InstallProgress {
  /** Epoch ms at which every host was first seen running the ISO. */
  startedAt?: number;
  /** Epoch ms at which the cluster reported installed. */
  installedAt?: number;
}

export interface InstallState {
  installId: string;
  infraId: string;
  clusterName: string;
  baseDomain: string;
  rendezvousIP: string;
  /** The host holding the rendezvous IP (node zero, the bootstrap host). */
  rendezvousHost: string;
  controlPlaneReplicas: number;
  computeReplicas: number;
  hosts: HostRecord[];
  progress: InstallProgress;
}

export const STATE_FILE = '.openshift_install_state.json';

export function stateFile(dir: string): string {
  return path.join(dir, STATE_FILE);
}

export function readInstallState(dir: string): InstallState | undefined {
  return readJson<InstallState | undefined>(stateFile(dir), undefined);
}

export function writeInstallState(dir: string, state: InstallState): void {
  writeJson(stateFile(dir), state);
}

export function hasInstallState(dir: string): boolean {
  return fs.existsSync(stateFile(dir));
}

export function clusterDomain(s: Pick<InstallState, 'clusterName' | 'baseDomain'>): string {
  return `${s.clusterName}.${s.baseDomain.replace(/\.$/, '')}`;
}
