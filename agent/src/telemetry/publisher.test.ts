import { describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { commonv1, telemetryv1 } from '@phoenix/shared';
import { Lifecycle } from '@phoenix/shared';
import { NodeResources } from './node-resources.js';
import { TelemetryPublisher, type TelemetryDeps } from './publisher.js';

class FakePublisher {
  connected = true;
  readonly sent: Array<{ subject: string; payload: Uint8Array }> = [];
  publish(subject: string, payload: Uint8Array): void {
    if (!this.connected) throw new Error('not connected');
    this.sent.push({ subject, payload });
  }
}

const guest: commonv1.GuestSummary = commonv1.GuestSummary.fromPartial({
  vmid: 900,
  type: commonv1.GuestType.LXC,
  name: 'tmpl',
  status: commonv1.GuestStatus.STOPPED,
  template: true,
  snapshots: ['base'],
});

function setup(overrides: Partial<TelemetryDeps> = {}) {
  const publisher = new FakePublisher();
  const lifecycle = new Lifecycle();
  const published: string[] = [];
  const skipped: string[] = [];
  let guestCalls = 0;
  const deps: TelemetryDeps = {
    cluster: 'lab',
    node: 'pve1',
    version: '1.2.3',
    advertise: 'pve1:7443',
    labels: { rack: 'r1' },
    intervals: { nodeMs: 50, gpuMs: 50, guestsMs: 50, storageMs: 50, heartbeatMs: 50 },
    publisher,
    resources: new NodeResources(),
    gpus: { latest: () => [commonv1.Gpu.fromPartial({ index: 0, name: 'NVIDIA A100', memoryTotalMib: 81920 })] },
    listGuests: async () => (guestCalls++, [guest]),
    listStorages: async () => [commonv1.Storage.fromPartial({ id: 'local-zfs', type: 'zfspool', active: true })],
    lifecycle,
    runningOperations: () => 2,
    observer: {
      telemetryPublished: (kind) => published.push(kind),
      telemetryNotPublished: (kind, reason) => skipped.push(`${kind}:${reason}`),
    },
    log: pino({ level: 'silent' }),
    ...overrides,
  };
  return { publisher, lifecycle, published, skipped, deps, guestCalls: () => guestCalls, telemetry: new TelemetryPublisher(deps) };
}

/** Simulates a slow tool inside a fake. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const eventually = (check: () => void) => vi.waitFor(check, { timeout: 10_000 });

describe('telemetry - publishing', () => {
  it('publishes decodable protobuf on every subject of the node', async () => {
    const { publisher, telemetry, lifecycle, published } = setup();
    lifecycle.advance('running');
    telemetry.start();
    // Every loop ticks on its own: wait until every kind was published (the node twice, after the
    // guests and storages were listed), then check what was sent.
    await eventually(() => {
      expect(published.filter((k) => k === 'node').length).toBeGreaterThan(1);
      expect(published).toEqual(expect.arrayContaining(['gpu', 'guests', 'heartbeat']));
      const node = telemetryv1.NodeTelemetry.decode(publisher.sent.filter((m) => m.subject === 'phoenix.telemetry.lab.pve1.node').at(-1)!.payload);
      expect(node.storages).toHaveLength(1);
      expect(node.templates).toHaveLength(1);
    });
    telemetry.stop();
    const subjects = new Set(publisher.sent.map((m) => m.subject));
    expect(subjects).toEqual(
      new Set(['phoenix.telemetry.lab.pve1.node', 'phoenix.telemetry.lab.pve1.gpu', 'phoenix.telemetry.lab.pve1.guests', 'phoenix.health.lab.pve1']),
    );
    const last = (subject: string) => publisher.sent.filter((m) => m.subject === subject).at(-1)!.payload;
    const node = telemetryv1.NodeTelemetry.decode(last('phoenix.telemetry.lab.pve1.node'));
    expect(node).toMatchObject({ cluster: 'lab', node: 'pve1', labels: { rack: 'r1' } });
    expect(node.cpus).toBeGreaterThan(0);
    expect(node.memoryTotalBytes).toBeGreaterThan(0);
    expect(node.storages.map((s) => s.id)).toEqual(['local-zfs']);
    expect(node.templates).toEqual([{ vmid: 900, name: 'tmpl', snapshots: ['base'] }]);
    expect(node.seq).toBeGreaterThan(1);
    expect(telemetryv1.GpuTelemetry.decode(last('phoenix.telemetry.lab.pve1.gpu')).gpus[0]).toMatchObject({ name: 'NVIDIA A100' });
    expect(telemetryv1.GuestsTelemetry.decode(last('phoenix.telemetry.lab.pve1.guests')).guests[0]).toMatchObject({ vmid: 900 });
    expect(telemetryv1.Heartbeat.decode(last('phoenix.health.lab.pve1'))).toMatchObject({
      state: commonv1.DaemonState.RUNNING,
      agentVersion: '1.2.3',
      grpcAddress: 'pve1:7443',
      runningOperations: 2,
    });
  });

  it('skips samples while disconnected and resumes afterwards', async () => {
    const { publisher, telemetry, skipped } = setup();
    publisher.connected = false;
    telemetry.start();
    // Every kind had its turn and was skipped.
    await eventually(() =>
      expect(skipped).toEqual(expect.arrayContaining(['node:disconnected', 'gpu:disconnected', 'guests:disconnected', 'heartbeat:disconnected'])),
    );
    expect(publisher.sent).toHaveLength(0);
    expect(skipped).toContain('heartbeat:disconnected');
    publisher.connected = true;
    await eventually(() => expect(publisher.sent.length).toBeGreaterThan(0));
    telemetry.stop();
    expect(publisher.sent.length).toBeGreaterThan(0);
  });

  it('never overlaps a slow sample with itself', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    const { telemetry } = setup({
      intervals: { nodeMs: 1000, gpuMs: 1000, guestsMs: 10, storageMs: 1000, heartbeatMs: 1000 },
      listGuests: async () => {
        calls++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(60);
        inFlight--;
        return [];
      },
    });
    telemetry.start();
    // Each sample takes six intervals: by the third, several ticks fell due while one was in flight.
    await eventually(() => expect(calls).toBeGreaterThanOrEqual(3));
    telemetry.stop();
    expect(maxInFlight).toBe(1);
  });

  it('announces draining at once with a heartbeat', async () => {
    const { publisher, telemetry, lifecycle, published } = setup({
      intervals: { nodeMs: 60_000, gpuMs: 60_000, guestsMs: 60_000, storageMs: 60_000, heartbeatMs: 60_000 },
    });
    lifecycle.advance('running');
    telemetry.start();
    // The first round of samples is out; the next is a minute away.
    await eventually(() => expect(published).toEqual(expect.arrayContaining(['node', 'gpu', 'guests', 'heartbeat'])));
    const before = publisher.sent.length;
    const beatsBefore = published.filter((k) => k === 'heartbeat').length;
    lifecycle.advance('draining');
    await eventually(() => expect(published.filter((k) => k === 'heartbeat').length).toBeGreaterThan(beatsBefore));
    telemetry.stop();
    const beats = publisher.sent.slice(before).filter((m) => m.subject === 'phoenix.health.lab.pve1');
    expect(beats).toHaveLength(1);
    expect(telemetryv1.Heartbeat.decode(beats[0]!.payload).state).toBe(commonv1.DaemonState.DRAINING);
  });

  it('publishes the guest list at once after a change, and once more when the change lands mid-sample', async () => {
    const gates: Array<() => void> = [];
    let calls = 0;
    const { publisher, telemetry } = setup({
      intervals: { nodeMs: 60_000, gpuMs: 60_000, guestsMs: 60_000, storageMs: 60_000, heartbeatMs: 60_000 },
      listGuests: async () => {
        calls++;
        await new Promise<void>((resolve) => gates.push(resolve));
        return [guest];
      },
    });
    const guestMessages = () => publisher.sent.filter((m) => m.subject === 'phoenix.telemetry.lab.pve1.guests').length;
    telemetry.start();
    // The scheduled first sample is running; a change now must not overlap it but follow it.
    await vi.waitFor(() => expect(calls).toBe(1));
    telemetry.guestsChanged();
    telemetry.guestsChanged();
    expect(calls).toBe(1);
    gates.shift()!();
    await vi.waitFor(() => expect(calls).toBe(2));
    gates.shift()!();
    await vi.waitFor(() => expect(guestMessages()).toBe(2));
    // Idle: a change samples at once, long before the 60 s interval.
    telemetry.guestsChanged();
    await vi.waitFor(() => expect(calls).toBe(3));
    gates.shift()!();
    await vi.waitFor(() => expect(guestMessages()).toBe(3));
    telemetry.stop();
  });
});
