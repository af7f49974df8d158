/**
 * OpenShift installs inside an apply run: for each cluster being installed, `prepare` (manifests,
 * agent ISO, upload to its nodes) is the gate its new VMs wait for; once every VM of the cluster
 * has converged, `install` waits for the installer and stores the credentials. Other guests run
 * on meanwhile. The driver does the work; this module only orders it.
 */
import type { PlannedCluster } from '../plan/openshift.js';
import type { PlannedGuest } from '../plan/types.js';
import { executePlan, type ApplyEvent, type ExecuteOptions, type GuestOutcome } from './execute.js';

export interface ClusterEvent {
  cluster: string;
  /** image, upload, bootstrap, install, credentials, or an installer stage. */
  step: string;
  state: 'running' | 'done' | 'failed';
  message: string;
  host?: string;
}

export interface ClusterOutcome {
  cluster: string;
  status: 'installed' | 'failed' | 'blocked' | 'unchanged';
  error?: unknown;
}

export interface OpenShiftDriver {
  prepare(c: PlannedCluster, emit: (e: ClusterEvent) => void, signal: AbortSignal): Promise<void>;
  install(c: PlannedCluster, emit: (e: ClusterEvent) => void, signal: AbortSignal): Promise<void>;
}

export interface ExecuteWithOpenShiftOptions extends Omit<ExecuteOptions, 'gates'> {
  clusters: readonly PlannedCluster[];
  driver: OpenShiftDriver | undefined;
  emitCluster: (e: ClusterEvent) => void;
}

export async function executeWithOpenShift(
  guests: readonly PlannedGuest[],
  o: ExecuteWithOpenShiftOptions,
): Promise<{ guests: GuestOutcome[]; clusters: ClusterOutcome[] }> {
  const signal = o.signal ?? new AbortController().signal;
  const waiting = new Map<string, (outcome: GuestOutcome) => void>();
  const settled = new Map<string, GuestOutcome>();
  const outcomeOf = (id: string): Promise<GuestOutcome> => {
    const done = settled.get(id);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => waiting.set(id, resolve));
  };
  const emit = (e: ApplyEvent): void => {
    if (e.type === 'done') {
      settled.set(e.guest.id, e.outcome);
      waiting.get(e.guest.id)?.(e.outcome);
    }
    o.emit?.(e);
  };

  const gates = new Map<string, Promise<unknown>>();
  const installs: Promise<ClusterOutcome>[] = [];
  for (const c of o.clusters) {
    if (c.action !== 'install') {
      installs.push(Promise.resolve({ cluster: c.name, status: 'unchanged' }));
      continue;
    }
    const driver = o.driver;
    if (!driver) {
      installs.push(Promise.resolve({ cluster: c.name, status: 'blocked', error: new Error('this coordinator has no OpenShift installer configured (set openshift.installer in its config)') }));
      continue;
    }
    const prepared = driver.prepare(c, o.emitCluster, signal);
    gates.set(c.gate, prepared);
    installs.push(
      prepared.then(
        async (): Promise<ClusterOutcome> => {
          const vms = await Promise.all(c.hosts.map((h) => outcomeOf(h.guestId)));
          const bad = vms.filter((v) => v.status !== 'converged' && v.status !== 'skipped');
          if (bad.length > 0) {
            return { cluster: c.name, status: 'blocked', error: new Error(`VMs not converged: ${bad.map((b) => `${b.id} (${b.status})`).join(', ')}`) };
          }
          try {
            await driver.install(c, o.emitCluster, signal);
            return { cluster: c.name, status: 'installed' };
          } catch (error) {
            return { cluster: c.name, status: 'failed', error };
          }
        },
        (error: unknown): ClusterOutcome => ({ cluster: c.name, status: 'failed', error }),
      ),
    );
  }
  const guestOutcomes = await executePlan(guests, { ...o, emit, gates });
  // A VM that never got an outcome (not in this plan) would hold its cluster forever: settle it.
  for (const [id, resolve] of waiting) if (!settled.has(id)) resolve({ id, status: 'blocked', changed: false });
  return { guests: guestOutcomes, clusters: await Promise.all(installs) };
}
