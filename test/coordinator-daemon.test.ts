/**
 * The coordinator daemon's parts against a real nats-server: the leader plans on a view that
 * honours `drain`, follows requests with a KV watch, and deletes requests of finished runs after
 * the retention period.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { subjects, telemetryv1, commonv1 } from '@phoenix/shared';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlan } from '../coordinator/src/plan/index.js';
import { parseCoordinatorConfig } from '../coordinator/src/daemon/config.js';
import { CoordinatorDaemon } from '../coordinator/src/daemon/daemon.js';
import { ViewKeeper } from '../coordinator/src/daemon/view-keeper.js';
import { nodeBucket, nodeKey, readStoredView, setDrained } from '../coordinator/src/nodes/index.js';
import { RequestQueue, requestBucket, requestKey, submitRequest, sweepFinishedRequests } from '../coordinator/src/requests/index.js';
import { loadSpecText } from '../coordinator/src/spec/load.js';
import { ApplyJournal, StateStore } from '../coordinator/src/state/index.js';
import { startSecuredNats, type SecuredNatsServer } from './harness/nats.js';
import { waitFor } from './harness/wait-for.js';

const CLUSTER = 'test';
const NODES = ['pve1', 'pve2'];
const log = pino({ level: 'silent' });

let server: SecuredNatsServer;
const connections: NatsConnection[] = [];

async function connection(user: string): Promise<NatsConnection> {
  const nc = await server.connectAs(user);
  connections.push(nc);
  return nc;
}

beforeAll(async () => {
  server = await startSecuredNats({ cluster: CLUSTER, nodes: NODES });
});

afterAll(async () => {
  await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
  await server?.dispose();
});

/** One round of an agent's telemetry: heartbeat, node resources and its guests. */
async function publishAgent(node: string, guests: { vmid: number; name: string }[]): Promise<void> {
  const nc = await connection(node);
  const time = new Date();
  nc.publish(subjects.health(CLUSTER, node), telemetryv1.Heartbeat.encode({ cluster: CLUSTER, node, time, seq: 1, state: 2, agentVersion: 'test', grpcAddress: `${node}:7443`, runningOperations: 0 }).finish());
  nc.publish(
    subjects.telemetry(CLUSTER, node, 'node'),
    telemetryv1.NodeTelemetry.encode({
      cluster: CLUSTER, node, time, seq: 1, cpus: 32, cpuUsage: 0.1, load1: 1, load5: 1, load15: 1,
      memoryTotalBytes: 128 * 2 ** 30, memoryUsedBytes: 8 * 2 ** 30, memoryAvailableBytes: 120 * 2 ** 30,
      storages: [{ id: 'local-zfs', type: 'zfspool', content: ['images', 'rootdir'], active: true, shared: false, totalBytes: 2 ** 40, usedBytes: 2 ** 36, availableBytes: 2 ** 40 - 2 ** 36 }],
      uptimeSeconds: 1000, labels: {}, templates: [],
    }).finish(),
  );
  nc.publish(
    subjects.telemetry(CLUSTER, node, 'guests'),
    telemetryv1.GuestsTelemetry.encode({
      cluster: CLUSTER, node, time, seq: 1,
      guests: guests.map((g) => commonv1.GuestSummary.fromPartial({ vmid: g.vmid, name: g.name, type: commonv1.GuestType.LXC, status: commonv1.GuestStatus.RUNNING, template: false, snapshots: [], cpus: 1, maxMemoryBytes: 512 * 2 ** 20, maxDiskBytes: 8 * 2 ** 30 })),
    }).finish(),
  );
  await nc.flush();
}

const SPEC = `
version: 1
cluster: { name: ${CLUSTER} }
nodes: [{ name: pve1 }, { name: pve2 }]
templates:
  - { kind: os-template, name: debian, file: debian-12-standard_12.7-1_amd64.tar.zst }
containers:
  - { name: keep, vmid: 200, template: debian, storage: local-zfs, cores: 1, memoryMiB: 512, diskGiB: 8 }
  - { name: pinned, template: debian, storage: local-zfs, cores: 1, memoryMiB: 512, diskGiB: 8, placement: { node: pve1 } }
  - { name: free, template: debian, storage: local-zfs, cores: 1, memoryMiB: 512, diskGiB: 8 }
`;

describe('coordinator - drain', () => {
  it('the leader places nothing new on a drained node; guests already there stay', async () => {
    const nc = await connection('coordinator');
    const store = await StateStore.open(nc);
    const keeper = new ViewKeeper(nc, CLUSTER, log, 1_000);
    keeper.start(store, 50);
    try {
      await publishAgent('pve1', [{ vmid: 200, name: 'keep' }]);
      await publishAgent('pve2', []);
      // The leader has written both nodes, so `drain` (the CLI's path) finds them.
      await waitFor('both nodes stored', async () => ((await readStoredView(store, CLUSTER)).view.nodes.length === 2 ? true : undefined));
      const { compiled } = loadSpecText(SPEC, 'spec.yaml');
      const where = async () => {
        const plan = await buildPlan(compiled, await keeper.planningView(store), { limits: { perNode: 4 } });
        return { nodes: Object.fromEntries(plan.guests.map((g) => [g.id, g.node])), actions: Object.fromEntries(plan.guests.map((g) => [g.id, g.action])), unplaced: plan.unplaced.map((u) => u.guest) };
      };

      const before = await where();
      expect(before.nodes).toMatchObject({ keep: 'pve1', pinned: 'pve1' });
      expect(before.unplaced).toEqual([]);

      const drained = await setDrained(store, 'pve1', true);
      expect(drained.guests.map((g) => g.vmid)).toEqual([200]);
      const after = await where();
      expect(after.nodes['keep']).toBe('pve1');
      expect(after.actions['keep']).toBe('none');
      expect(after.nodes['free']).toBe('pve2');
      expect(after.unplaced).toEqual(['pinned']);
      expect(Object.values(after.nodes).filter((n) => n === 'pve1')).toEqual(['pve1']);
      // The leader keeps writing the view and does not undo the drain.
      const drainedAt = Date.now();
      const rewritten = await waitFor('a later write of pve1', async () => {
        const e = await nodeBucket(store).get(nodeKey('pve1'));
        return e && e.value.at > drainedAt ? e : undefined;
      });
      expect(rewritten.value.drained).toBe(true);
      expect((await where()).unplaced).toEqual(['pinned']);

      await setDrained(store, 'pve1', false);
      expect((await where()).nodes['pinned']).toBe('pve1');
    } finally {
      keeper.stop();
    }
  });
});

describe('coordinator - requests', () => {
  it('a watch delivers existing and new requests without listing, and drops deleted ones', async () => {
    const store = await StateStore.open(await connection('coordinator'));
    const first = await submitRequest(store, 'apply', 'test', { yaml: 'version: 1\n' });
    let changes = 0;
    const queue = new RequestQueue(store, () => changes++, log);
    await queue.start();
    try {
      await waitFor('the existing request', () => (queue.oldestFirst().some((r) => r.value.runId === first.runId) ? true : undefined));
      const second = await submitRequest(store, 'destroy', 'test');
      await waitFor('the new request', () => (queue.oldestFirst().some((r) => r.value.runId === second.runId) ? true : undefined));
      const ids = queue.oldestFirst().map((r) => r.value.runId);
      expect(ids.indexOf(first.runId)).toBeLessThan(ids.indexOf(second.runId));
      await requestBucket(store).delete(requestKey(first.runId));
      await waitFor('the deleted request gone', () => (queue.oldestFirst().some((r) => r.value.runId === first.runId) ? undefined : true));
      expect(changes).toBeGreaterThanOrEqual(3);
    } finally {
      queue.stop();
    }
  });

  it('deletes requests of runs finished longer ago than the retention, and nothing else', async () => {
    const store = await StateStore.open(await connection('coordinator'));
    const journal = new ApplyJournal(store);
    const actor = { owner: 'coord-a', fencingToken: 1 };
    const old = await submitRequest(store, 'apply', 'test');
    const running = await submitRequest(store, 'apply', 'test');
    const pending = await submitRequest(store, 'apply', 'test');
    await journal.startRun(old.runId, actor);
    await journal.finishRun(old.runId, actor, 'succeeded');
    await journal.startRun(running.runId, actor);
    const finishedAt = Date.parse((await journal.getRun(old.runId))!.updatedAt);
    const known = await requestBucket(store).list('request.>');
    const mine = known.filter((r) => [old, running, pending].some((x) => x.runId === r.value.runId));

    // Within the retention: kept.
    expect(await sweepFinishedRequests(store, journal, mine, 60_000, finishedAt + 60_000)).toEqual([]);
    // Past it: only the finished run's request goes.
    expect(await sweepFinishedRequests(store, journal, mine, 60_000, finishedAt + 60_001)).toEqual([old.runId]);
    expect(await requestBucket(store).get(requestKey(old.runId))).toBeNull();
    expect(await requestBucket(store).get(requestKey(running.runId))).not.toBeNull();
    expect(await requestBucket(store).get(requestKey(pending.runId))).not.toBeNull();
    // The run's journal stays.
    expect((await journal.getRun(old.runId))?.state).toBe('succeeded');
  });
});

describe('coordinator - daemon', () => {
  it('goes starting → running → stopped in its metrics, leads, and runs a request it sees through the watch', async () => {
    // A server of its own: the requests of the tests above would be queued before this one.
    const own = await startSecuredNats({ cluster: CLUSTER, nodes: NODES });
    const dir = await mkdtemp(join(tmpdir(), 'coordinator-daemon-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) await writeFile(join(dir, f), 'unused: no agent is dialled\n');
    const config = parseCoordinatorConfig(
      {
        id: 'coord-a',
        context: { cluster: CLUSTER, nats: { url: own.url, ...own.coordinatorUser }, tls: { ca: 'ca.pem', cert: 'cert.pem', key: 'key.pem' } },
        leaseTtlSeconds: 2,
      },
      { source: 'test', baseDir: dir },
    );
    const daemon = new CoordinatorDaemon(config, log);
    const states: string[] = [];
    daemon.lifecycle.onChange((s) => states.push(s));
    const nc = await own.connectAs('coordinator');
    try {
      await daemon.start();
      expect(daemon.lifecycle.state).toBe('running');
      expect(await daemon.registry.metrics()).toMatch(/phoenix_coordinator_state\{state="running"\} 1/);
      await waitFor('leadership', async () => ((await daemon.registry.metrics()).includes('phoenix_coordinator_leader 1') ? true : undefined));

      const events: { runId: string; type: string; runState?: string; error?: string }[] = [];
      nc.subscribe(subjects.events(CLUSTER, 'apply'), { callback: (_e, m) => void events.push(m.json()) });
      await nc.flush();
      const store = await StateStore.open(nc);
      const req = await submitRequest(store, 'apply', 'test');
      const finished = await waitFor('the run to finish', () => events.find((e) => e.runId === req.runId && e.type === 'finished'));
      expect(finished).toMatchObject({ runState: 'failed', error: 'no spec has been submitted' });
      expect((await new ApplyJournal(store).getRun(req.runId))?.state).toBe('failed');
    } finally {
      await daemon.stop();
      await nc.close();
      await own.dispose();
      await rm(dir, { recursive: true, force: true });
    }
    expect(states).toEqual(['running', 'draining', 'stopped']);
    expect(await daemon.registry.metrics()).toMatch(/phoenix_coordinator_state\{state="stopped"\} 1/);
  });
});
