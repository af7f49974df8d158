import { describe, expect, it } from 'vitest';
import type { PlannedCluster } from '../plan/openshift.js';
import type { PlannedGuest } from '../plan/types.js';
import type { ApplyJournal, GuestRunner } from './execute.js';
import { executeWithOpenShift, type OpenShiftDriver } from './openshift.js';

const vm = (id: string, node: string, gate?: string): PlannedGuest => ({
  id,
  vmid: 100,
  node,
  action: 'create',
  dependsOn: [],
  steps: [{ name: 'ensure_exists', reason: 'missing', estSeconds: 1 }],
  ...(gate ? { gate } : {}),
});

function cluster(name: string, hosts: string[]): PlannedCluster {
  return {
    name,
    gate: `openshift:${name}`,
    action: 'install',
    reason: 'not installed',
    cluster: undefined as never,
    hosts: hosts.map((h) => ({ name: h, guestId: h, role: 'control-plane', node: 'pve1', ip: '10.0.0.1', mac: '52:54:00:00:00:01', rootDeviceWwn: undefined })),
    nodes: ['pve1'],
    isoStorage: 'local',
    isoFile: `phoenix-${name}-agent.x86_64.iso`,
    isoVolume: `local:iso/phoenix-${name}-agent.x86_64.iso`,
    steps: [],
  };
}

const journal: ApplyJournal = {
  isDone: () => Promise.resolve(false),
  markStarted: () => Promise.resolve(),
  idempotencyKey: (id) => `k/${id}`,
  markDone: () => Promise.resolve(),
};

/** A gate the test opens or fails by hand, so order is asserted without timing. */
function manual() {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const p = new Promise<void>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { p, open, fail };
}

function runner(log: string[], fail: string[] = []): GuestRunner {
  return {
    clone: () => Promise.resolve(),
    converge(g) {
      log.push(`converge:${g.id}`);
      return fail.includes(g.id) ? Promise.reject(new Error(`boom ${g.id}`)) : Promise.resolve({ changed: true });
    },
    remove: () => Promise.resolve({ changed: true }),
  };
}

describe('executeWithOpenShift', () => {
  it('holds the VMs until the ISO is ready, lets other guests run, installs after every VM converged', async () => {
    const log: string[] = [];
    const gate = manual();
    const driver: OpenShiftDriver = {
      prepare: () => {
        log.push('prepare');
        return gate.p;
      },
      install: () => {
        log.push('install');
        return Promise.resolve();
      },
    };
    const run = executeWithOpenShift([vm('cp1', 'pve1', 'openshift:lab'), vm('cp2', 'pve2', 'openshift:lab'), vm('web', 'pve1')], {
      limits: { perNode: 4 },
      runner: runner(log),
      journal,
      clusters: [cluster('lab', ['cp1', 'cp2'])],
      driver,
      emitCluster: () => undefined,
    });
    // `web` converges while the VMs wait on the gate.
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    expect(log).toEqual(['prepare', 'converge:web']);
    gate.open();
    const out = await run;
    expect(log.slice(2).sort()).toEqual(['converge:cp1', 'converge:cp2', 'install']);
    expect(log.at(-1)).toBe('install');
    expect(out.clusters).toEqual([{ cluster: 'lab', status: 'installed' }]);
  });

  it('a failed ISO blocks the VMs and fails the cluster; a failed VM blocks the install', async () => {
    const log: string[] = [];
    const driver: OpenShiftDriver = {
      prepare: (c) => (c.name === 'bad' ? Promise.reject(new Error('image failed')) : Promise.resolve()),
      install: (c) => {
        log.push(`install:${c.name}`);
        return Promise.resolve();
      },
    };
    const out = await executeWithOpenShift([vm('a1', 'pve1', 'openshift:bad'), vm('b1', 'pve1', 'openshift:good'), vm('b2', 'pve2', 'openshift:good')], {
      limits: { perNode: 4 },
      runner: runner(log, ['b2']),
      journal,
      clusters: [cluster('bad', ['a1']), cluster('good', ['b1', 'b2'])],
      driver,
      emitCluster: () => undefined,
    });
    expect(out.guests.find((g) => g.id === 'a1')?.status).toBe('blocked');
    expect(log).not.toContain('converge:a1');
    expect(out.clusters.map((c) => [c.cluster, c.status])).toEqual([
      ['bad', 'failed'],
      ['good', 'blocked'],
    ]);
    expect(String(out.clusters[1]?.error)).toMatch(/b2 \(failed\)/);
    expect(log).not.toContain('install:good');
  });

  it('without an installer the cluster is blocked and its VMs are not created', async () => {
    const log: string[] = [];
    const out = await executeWithOpenShift([vm('cp1', 'pve1', 'openshift:lab')], {
      limits: { perNode: 4 },
      runner: runner(log),
      journal,
      clusters: [cluster('lab', ['cp1'])],
      driver: undefined,
      emitCluster: () => undefined,
    });
    expect(log).toEqual([]);
    expect(out.guests[0]?.status).toBe('blocked');
    expect(out.clusters[0]?.status).toBe('blocked');
  });
});
