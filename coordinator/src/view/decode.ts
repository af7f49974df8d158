/**
 * Agent telemetry (protobuf on NATS) → the view's typed messages. The only place that knows both
 * the wire format and the view's vocabulary.
 */
import { commonv1, telemetryv1 } from '@phoenix/shared';
import type { StorageContent } from './types.js';
import type { GuestObservation, StorageSample, TelemetryMessage } from './telemetry.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const CONTENT = new Set<StorageContent>(['images', 'rootdir', 'iso', 'vztmpl', 'backup', 'snippets']);

function storage(s: commonv1.Storage): StorageSample {
  return {
    id: s.id,
    type: s.type,
    totalGiB: s.totalBytes / GIB,
    freeGiB: s.availableBytes / GIB,
    content: s.content.filter((c): c is StorageContent => CONTENT.has(c as StorageContent)),
    shared: s.shared,
    active: s.active,
  };
}

function guest(g: commonv1.GuestSummary): GuestObservation {
  const status =
    g.status === commonv1.GuestStatus.RUNNING ? 'running' : g.status === commonv1.GuestStatus.STOPPED ? 'stopped' : g.status === commonv1.GuestStatus.PAUSED ? 'paused' : 'unknown';
  return {
    vmid: g.vmid,
    name: g.name || undefined,
    type: g.type === commonv1.GuestType.VM ? 'qemu' : 'lxc',
    status,
    template: g.template,
    snapshots: g.snapshots,
    cores: g.cpus,
    memoryMiB: g.maxMemoryBytes / MIB,
    diskGiB: g.maxDiskBytes / GIB,
  };
}

const time = (d: Date | undefined): number => d?.getTime() ?? Date.now();

/** Decodes one message by the last token of its subject; undefined for kinds the view does not use. */
export function decodeTelemetry(subject: string, data: Uint8Array): TelemetryMessage | undefined {
  const kind = subject.split('.').at(-1);
  if (subject.startsWith('phoenix.health.')) {
    const hb = telemetryv1.Heartbeat.decode(data);
    return { kind: 'heartbeat', node: hb.node, at: time(hb.time) };
  }
  if (kind === 'node') {
    const m = telemetryv1.NodeTelemetry.decode(data);
    return {
      kind: 'node',
      node: m.node,
      at: time(m.time),
      cpu: { cores: m.cpus, usagePct: m.cpuUsage * 100 },
      memory: { totalMiB: m.memoryTotalBytes / MIB, usedMiB: m.memoryUsedBytes / MIB },
      storages: m.storages.map(storage),
      labels: m.labels,
    };
  }
  if (kind === 'gpu') {
    const m = telemetryv1.GpuTelemetry.decode(data);
    return {
      kind: 'gpu',
      node: m.node,
      at: time(m.time),
      gpus: m.gpus.map((g) => ({
        index: g.index,
        model: g.name,
        uuid: g.uuid || undefined,
        memoryTotalMiB: g.memoryTotalMib,
        memoryFreeMiB: g.memoryFreeMib,
        utilizationPct: g.utilizationGpuPercent,
      })),
    };
  }
  if (kind === 'guests') {
    const m = telemetryv1.GuestsTelemetry.decode(data);
    return { kind: 'guests', node: m.node, at: time(m.time), guests: m.guests.map(guest) };
  }
  return undefined;
}

/** The agent's gRPC address from a heartbeat, for dialing it. */
export function heartbeatAddress(data: Uint8Array): { node: string; address: string } {
  const hb = telemetryv1.Heartbeat.decode(data);
  return { node: hb.node, address: hb.grpcAddress };
}
