/**
 * Publishes the node's telemetry as protobuf on the subjects of `@phoenix/shared` names:
 * node resources, GPUs, guests (each on its own interval) and the heartbeat on the health subject.
 * A kind never overlaps itself (a slow `pct list` delays the next sample instead of piling up), and
 * while NATS is down samples are skipped, not queued: stale telemetry is worse than none.
 */
import { subjects, telemetryv1, type commonv1, type Logger } from '@phoenix/shared';
import type { DaemonState, Lifecycle } from '@phoenix/shared';
import type { NodeResources } from './node-resources.js';
import type { Publisher } from './nats-link.js';

export type TelemetryKind = 'node' | 'gpu' | 'guests' | 'heartbeat';

export interface TelemetryObserver {
  telemetryPublished(kind: string, lagSeconds: number): void;
  telemetryNotPublished(kind: string, reason: 'disconnected' | 'sample_failed' | 'publish_failed'): void;
}

/** Latest GPU sample, kept by the long-lived nvidia-smi sampler. */
export interface GpuSource {
  latest(): commonv1.Gpu[] | undefined;
}

export interface TelemetryDeps {
  cluster: string;
  node: string;
  version: string;
  advertise: string;
  labels: Record<string, string>;
  intervals: { nodeMs: number; gpuMs: number; guestsMs: number; storageMs: number; heartbeatMs: number };
  publisher: Publisher;
  resources: NodeResources;
  gpus: GpuSource;
  listGuests(signal: AbortSignal): Promise<commonv1.GuestSummary[]>;
  listStorages(signal: AbortSignal): Promise<commonv1.Storage[]>;
  lifecycle: Lifecycle;
  runningOperations(): number;
  observer: TelemetryObserver;
  log: Logger;
}

interface Loop {
  timer: NodeJS.Timeout | undefined;
  busy: boolean;
  /** Asked to run now while busy: the running sample may predate the change, so run once more. */
  again: boolean;
}

export class TelemetryPublisher {
  private readonly controller = new AbortController();
  private readonly loops = new Map<string, Loop>();
  private readonly seq = new Map<TelemetryKind, number>();
  private storages: commonv1.Storage[] = [];
  private guests: commonv1.GuestSummary[] = [];
  private stopped = false;

  constructor(private readonly deps: TelemetryDeps) {
    deps.lifecycle.onChange((state) => this.onStateChange(state));
  }

  start(): void {
    const i = this.deps.intervals;
    this.every('storages', i.storageMs, () => this.refreshStorages());
    this.every('guests', i.guestsMs, () => this.publishGuests());
    this.every('node', i.nodeMs, () => this.publishNode());
    this.every('gpu', i.gpuMs, () => this.publishGpus());
    this.every('heartbeat', i.heartbeatMs, () => this.publishHeartbeat());
  }

  stop(): void {
    this.stopped = true;
    this.controller.abort();
    for (const loop of this.loops.values()) clearTimeout(loop.timer);
  }

  /**
   * The agent changed a guest: publish the guest list now instead of at the next tick, so the
   * coordinators' view catches up with the change right away.
   */
  guestsChanged(): void {
    this.runNow('guests', () => this.publishGuests());
  }

  private onStateChange(state: DaemonState): void {
    // Coordinators learn about a drain at once rather than at the next heartbeat.
    if (state === 'draining' || state === 'stopped') void this.tick('heartbeat', Date.now(), () => this.publishHeartbeat());
  }

  /** Runs `task` now and then every `intervalMs`, measured from each tick's schedule (no drift, no overlap). */
  private every(name: string, intervalMs: number, task: () => Promise<void>): void {
    const loop: Loop = { timer: undefined, busy: false, again: false };
    this.loops.set(name, loop);
    let next = Date.now();
    const run = (): void => {
      if (this.stopped) return;
      const scheduled = next;
      next = Math.max(scheduled + intervalMs, Date.now());
      loop.timer = setTimeout(run, next - Date.now());
      if (!loop.busy) this.runLoop(name, loop, scheduled, task);
    };
    run();
  }

  /** Runs loop `name` now, outside its schedule; never two samples of one kind at once. */
  private runNow(name: string, task: () => Promise<void>): void {
    const loop = this.loops.get(name);
    if (this.stopped || !loop) return;
    if (loop.busy) loop.again = true;
    else this.runLoop(name, loop, Date.now(), task);
  }

  private runLoop(name: string, loop: Loop, scheduled: number, task: () => Promise<void>): void {
    loop.busy = true;
    loop.again = false;
    void this.tick(name, scheduled, task).finally(() => {
      loop.busy = false;
      if (loop.again) this.runNow(name, task);
    });
  }

  private async tick(name: string, scheduled: number, task: () => Promise<void>): Promise<void> {
    const kind = name === 'storages' ? undefined : (name as TelemetryKind);
    if (kind && !this.deps.publisher.connected) {
      this.deps.observer.telemetryNotPublished(kind, 'disconnected');
      return;
    }
    try {
      await task();
      if (kind) this.deps.observer.telemetryPublished(kind, (Date.now() - scheduled) / 1000);
    } catch (err) {
      if (this.controller.signal.aborted) return;
      if (kind) this.deps.observer.telemetryNotPublished(kind, 'sample_failed');
      this.deps.log.warn({ err, kind: name }, 'telemetry sample failed');
    }
  }

  private next(kind: TelemetryKind): number {
    const n = (this.seq.get(kind) ?? 0) + 1;
    this.seq.set(kind, n);
    return n;
  }

  private publish(subject: string, payload: Uint8Array): void {
    this.deps.publisher.publish(subject, payload);
  }

  private async refreshStorages(): Promise<void> {
    this.storages = await this.deps.listStorages(this.controller.signal);
  }

  private async publishGuests(): Promise<void> {
    const { cluster, node } = this.deps;
    this.guests = await this.deps.listGuests(this.controller.signal);
    const msg = telemetryv1.GuestsTelemetry.encode({ cluster, node, time: new Date(), seq: this.next('guests'), guests: this.guests }).finish();
    this.publish(subjects.telemetry(cluster, node, 'guests'), msg);
  }

  private async publishNode(): Promise<void> {
    const { cluster, node } = this.deps;
    const [facts, sample] = await Promise.all([this.deps.resources.staticFacts(), this.deps.resources.sample()]);
    const templates = this.guests
      .filter((g) => g.template || g.snapshots.length > 0)
      .map((g) => ({ vmid: g.vmid, name: g.name, snapshots: g.snapshots }));
    const msg = telemetryv1.NodeTelemetry.encode({
      cluster,
      node,
      time: new Date(),
      seq: this.next('node'),
      cpus: facts.cpus,
      cpuUsage: sample.cpuUsage,
      load1: sample.load1,
      load5: sample.load5,
      load15: sample.load15,
      memoryTotalBytes: sample.memoryTotalBytes,
      memoryUsedBytes: sample.memoryUsedBytes,
      memoryAvailableBytes: sample.memoryAvailableBytes,
      storages: this.storages,
      uptimeSeconds: sample.uptimeSeconds,
      labels: this.deps.labels,
      templates,
    }).finish();
    this.publish(subjects.telemetry(cluster, node, 'node'), msg);
  }

  private async publishGpus(): Promise<void> {
    const { cluster, node } = this.deps;
    const gpus = this.deps.gpus.latest() ?? [];
    const msg = telemetryv1.GpuTelemetry.encode({ cluster, node, time: new Date(), seq: this.next('gpu'), gpus }).finish();
    this.publish(subjects.telemetry(cluster, node, 'gpu'), msg);
  }

  private async publishHeartbeat(): Promise<void> {
    const { cluster, node } = this.deps;
    const msg = telemetryv1.Heartbeat.encode({
      cluster,
      node,
      time: new Date(),
      seq: this.next('heartbeat'),
      state: this.deps.lifecycle.proto,
      agentVersion: this.deps.version,
      grpcAddress: this.deps.advertise,
      runningOperations: this.deps.runningOperations(),
    }).finish();
    this.publish(subjects.health(cluster, node), msg);
  }
}
