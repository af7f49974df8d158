import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseTimeScale } from '../core/env.js';
import { readTextOrUndefined } from '../core/atomic-file.js';
import { bootedHosts, nodeDirs } from './cluster-vms.js';
import { readOpenShiftFaults } from './faults.js';
import { clusterDomain, readInstallState, writeInstallState, type InstallProgress, type InstallState } from './install-state.js';
import type { Logger } from './log.js';
import { planInstall } from './timeline.js';

/**
 * `openshift-install agent wait-for bootstrap-complete|install-complete`: waits (scaled by
 * PVE_EMU_TIME_SCALE) for the hosts to boot the agent ISO, relays the install's progress, and
 * ends as the installer does: 0, 5 when bootstrap fails or times out (60 min), 6 when the
 * installation does not complete (90 min after bootstrap).
 */
export type WaitTarget = 'bootstrap-complete' | 'install-complete';

const BOOTSTRAP_TIMEOUT_S = 60 * 60;
const INSTALL_TIMEOUT_S = 90 * 60;
const POLL_S = 2;
const INIT_SLEEP_S = 30;
const EXIT_BOOTSTRAP_FAILED = 5;
const EXIT_INSTALL_FAILED = 6;

class Pace {
  constructor(readonly scale: number) {}
  ms(seconds: number): number {
    return seconds * 1000 * this.scale;
  }
  /** Emulated seconds since an epoch-ms instant. */
  since(t: number): number {
    return this.scale === 0 ? Number.POSITIVE_INFINITY : (Date.now() - t) / (1000 * this.scale);
  }
  async until(wallMs: number): Promise<void> {
    const wait = wallMs - Date.now();
    if (wait > 0) await delay(wait);
  }
}

function saveProgress(dir: string, patch: InstallProgress): void {
  const cur = readInstallState(dir);
  if (cur) writeInstallState(dir, { ...cur, progress: { ...cur.progress, ...patch } });
}

function bootstrapFailed(log: Logger, s: InstallState): never {
  const api = `api.${clusterDomain(s)}`;
  log.debug('Printing the event list gathered from the Agent Rest API');
  log.error(
    `Attempted to gather ClusterOperator status after wait failure: listing ClusterOperator objects: Get "https://${api}:6443/apis/config.openshift.io/v1/clusteroperators": dial tcp: lookup ${api} on 127.0.0.53:53: no such host`,
  );
  log.info('Use the following commands to gather logs from the cluster');
  log.info('openshift-install gather bootstrap --help');
  log.error('Bootstrap failed to complete: : bootstrap process timed out: context deadline exceeded');
  return log.exit(EXIT_BOOTSTRAP_FAILED);
}

function installFailed(log: Logger): never {
  log.error('Cluster installation timed out: context deadline exceeded');
  log.error(
    'Cluster initialization failed because one or more operators are not functioning properly.\n\t\t\t\tThe cluster should be accessible for troubleshooting as detailed in the documentation linked below,\n\t\t\t\thttps://docs.openshift.com/container-platform/latest/support/troubleshooting/troubleshooting-installations.html',
  );
  return log.exit(EXIT_INSTALL_FAILED);
}

function bootstrapComplete(log: Logger): void {
  log.info('Bootstrap is complete');
  log.info('cluster bootstrap is complete');
}

function installComplete(log: Logger, dir: string, s: InstallState): number {
  const abs = path.resolve(dir);
  const pw = readTextOrUndefined(path.join(abs, 'auth', 'kubeadmin-password')) ?? '';
  log.info('Install complete!');
  log.info(`To access the cluster as the system:admin user when using 'oc', run\n    export KUBECONFIG=${path.join(abs, 'auth', 'kubeconfig')}`);
  log.info(`Access the OpenShift web-console here: https://console-openshift-console.apps.${clusterDomain(s)}`);
  log.info(`Login to the console with user: "kubeadmin", and password: ${JSON.stringify(pw)}`);
  return 0;
}

/** Polls the nodes until every host runs the ISO; returns when that was first seen, or fails at the deadline. */
async function waitForHosts(log: Logger, s: InstallState, pace: Pace, started: number, deadline: number): Promise<number> {
  let notReadyShown = false;
  for (;;) {
    const booted = bootedHosts(nodeDirs(), s.hosts, s.installId);
    if (s.hosts.length > 0 && [...booted.values()].every(Boolean)) return Date.now();
    if (Date.now() >= deadline) bootstrapFailed(log, s);
    let pause = POLL_S;
    if (booted.get(s.rendezvousHost) !== true) {
      if (pace.since(started) > 120) log.info('Cannot access Rendezvous Host. There may be a network configuration problem, check console for additional info');
      else log.info('Waiting for cluster install to initialize. Sleeping for 30 seconds');
      pause += INIT_SLEEP_S;
    } else if (!notReadyShown) {
      log.info('Cluster is not ready for install. Check validations');
      notReadyShown = true;
    }
    await pace.until(Math.min(Date.now() + pace.ms(pause), deadline));
  }
}

export async function waitFor(log: Logger, dir: string, target: WaitTarget): Promise<number> {
  log.attachFile(dir);
  log.debug(`asset directory: ${dir}`);
  const s = readInstallState(dir);
  if (!s) return log.fatal(`failed to load asset "Agent Config": no state file found in ${JSON.stringify(dir)}; run "openshift-install agent create image" first`);
  const pace = new Pace(parseTimeScale(process.env['PVE_EMU_TIME_SCALE']));
  const started = Date.now();

  if (s.progress.installedAt !== undefined) {
    log.info('Bootstrap Kube API Initialized');
    log.info('Bootstrap configMap status is complete');
    bootstrapComplete(log);
    if (target === 'bootstrap-complete') return 0;
    log.info('Cluster is installed');
    return installComplete(log, dir, s);
  }

  const deadline = started + pace.ms(BOOTSTRAP_TIMEOUT_S);
  let begun = s.progress.startedAt;
  if (begun === undefined) {
    begun = await waitForHosts(log, s, pace, started, deadline);
    saveProgress(dir, { startedAt: begun });
  }
  const plan = planInstall(s.hosts, s.rendezvousHost, readOpenShiftFaults());
  for (const line of plan.lines) {
    const at = begun + pace.ms(line.at);
    if (at > deadline) break;
    await pace.until(at);
    if (line.level === 'warning') log.warn(line.msg);
    else log.info(line.msg);
  }
  const bootstrapAt = plan.bootstrapAt === undefined ? undefined : begun + pace.ms(plan.bootstrapAt + POLL_S);
  if (bootstrapAt === undefined || bootstrapAt > deadline) {
    await pace.until(deadline);
    return bootstrapFailed(log, s);
  }
  await pace.until(bootstrapAt);
  bootstrapComplete(log);
  if (target === 'bootstrap-complete') return 0;

  const installDeadline = Date.now() + pace.ms(INSTALL_TIMEOUT_S);
  const installedAt = plan.installedAt === undefined ? undefined : begun + pace.ms(plan.installedAt);
  if (installedAt === undefined || installedAt > installDeadline) {
    await pace.until(installDeadline);
    return installFailed(log);
  }
  await pace.until(installedAt);
  log.info('Cluster is installed');
  saveProgress(dir, { installedAt: Date.now() });
  return installComplete(log, dir, s);
}
