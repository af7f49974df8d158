import type { OpenShiftFaults } from './faults.js';
import type { HostRecord } from './install-state.js';

/**
 * What `agent wait-for` reports once every host runs the ISO, as emulated seconds from that
 * moment: the cluster and host status changes the installer relays from the agent REST API,
 * then its own bootstrap and install checks. Pure: the same hosts and faults give the same plan.
 */
export interface TimedLine {
  at: number;
  level: 'info' | 'warning';
  msg: string;
}

export interface InstallPlan {
  /** Lines up to the end of bootstrap (or up to where a fault stops it). */
  lines: TimedLine[];
  /** When bootstrap completes; undefined when a fault keeps it from completing. */
  bootstrapAt: number | undefined;
  /** When the cluster reports installed; undefined when a fault keeps it from installing. */
  installedAt: number | undefined;
}

const WRITE_STEPS = [5, 25, 45, 70, 100];
const BOOTSTRAP_AT = 110;
const INSTALL_AFTER_BOOTSTRAP = 80;

export function planInstall(hosts: HostRecord[], bootstrapHost: string, faults: OpenShiftFaults): InstallPlan {
  const lines: TimedLine[] = [];
  const add = (at: number, msg: string, level: TimedLine['level'] = 'info'): void => {
    lines.push({ at, level, msg });
  };
  const failing = hosts.find((h) => h.hostname === faults.hostError);
  const healthy = hosts.filter((h) => h !== failing);
  const masters = hosts.filter((h) => h.role === 'master');
  const label = (h: HostRecord): string => (h.hostname === bootstrapHost ? 'bootstrap' : h.role);
  const stage = (at: number, h: HostRecord, s: string): void => add(at, `Host: ${h.hostname}, reached installation stage ${s}`);

  add(0, 'Cluster is ready for install');
  add(0, 'Cluster validation: All hosts in the cluster are ready to install.');
  add(5, 'Preparing cluster for installation');
  for (const h of hosts) add(5, `Host ${h.hostname}: updated status from known to preparing-for-installation (Host finished successfully to prepare for installation)`);
  for (const h of hosts) add(10, `Host ${h.hostname}: updated status from preparing-for-installation to preparing-successful (Host finished successfully to prepare for installation)`);
  add(15, 'Cluster installation in progress');
  for (const h of hosts) add(15, `Host ${h.hostname}: updated status from preparing-successful to installing (Installation is in progress)`);
  for (const h of hosts) stage(20, h, `Starting installation: ${label(h)}`);
  for (const h of hosts) stage(25, h, `Installing: ${label(h)}`);
  WRITE_STEPS.forEach((pct, i) => {
    for (const h of pct > 45 ? healthy : hosts) stage(30 + i * 8, h, `Writing image to disk: ${pct}%`);
  });
  if (failing) {
    add(48, `Host ${failing.hostname}: updated status from installing-in-progress to error (Host failed to install because its installation stage Writing image to disk took longer than expected 20m0s)`, 'warning');
    add(48, 'Cluster has hosts in error');
    add(48, 'cluster has stopped installing... working to recover installation');
  }
  const boot = healthy.find((h) => h.hostname === bootstrapHost);
  if (boot && masters.length > 1) stage(72, boot, 'Waiting for control plane: Waiting for masters to join bootstrap control plane');
  if (boot && masters.length === 1) stage(72, boot, 'Waiting for bootkube');
  for (const h of healthy) if (h !== boot) stage(75, h, 'Rebooting');
  const stopped = faults.bootstrapTimeout === true || failing?.role === 'master';
  if (stopped) return { lines, bootstrapAt: undefined, installedAt: undefined };
  add(80, 'Bootstrap Kube API Initialized');
  for (const h of healthy) if (h !== boot && h.role === 'master') stage(90, h, 'Configuring');
  for (const h of healthy) if (h !== boot && h.role === 'master') stage(100, h, 'Joined');
  if (boot) stage(105, boot, 'Rebooting');
  add(BOOTSTRAP_AT, 'Bootstrap configMap status is complete');
  return { lines, bootstrapAt: BOOTSTRAP_AT, installedAt: failing ? undefined : BOOTSTRAP_AT + INSTALL_AFTER_BOOTSTRAP };
}
