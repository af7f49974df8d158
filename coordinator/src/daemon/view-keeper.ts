/**
 * Builds the cluster view from agent telemetry on NATS and remembers where each agent listens.
 * The view is also written to the nodes bucket (one key per node) so the CLI and standby
 * coordinators see what the leader sees.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { z } from 'zod';
import { buckets, subjects, type Logger } from '@phoenix/shared';
import { decodeTelemetry, heartbeatAddress } from '../cluster/telemetry.js';
import { advanceClock, applyTelemetry, emptyView } from '../view/telemetry.js';
import type { ClusterView, NodeView } from '../view/types.js';
import { kvKey, kvPrefix, type StateStore } from '../state/index.js';

export const nodeRecordSchema = z.object({ address: z.string(), view: z.unknown(), drained: z.boolean().default(false), at: z.number() });
export type NodeRecord = z.infer<typeof nodeRecordSchema>;
export const nodeKey = (node: string): string => kvKey('node', node);

export class ViewKeeper {
  #view: ClusterView;
  readonly #addresses = new Map<string, string>();
  readonly #subs: Subscription[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Newest telemetry time seen per node, for freshness metrics. */
  readonly lastSeen = new Map<string, number>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly cluster: string,
    private readonly logger: Logger,
    heartbeatIntervalMs: number,
  ) {
    this.#view = emptyView({ cluster, heartbeatIntervalMs });
  }

  get view(): ClusterView {
    return advanceClock(this.#view, Date.now());
  }

  address(node: string): string | undefined {
    return this.#addresses.get(node);
  }

  start(store?: StateStore, persistEveryMs = 1000): void {
    for (const subject of [subjects.telemetryAll(this.cluster), subjects.healthAll(this.cluster)]) {
      const sub = this.nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return;
          try {
            if (msg.subject.startsWith('phoenix.health.')) {
              const hb = heartbeatAddress(msg.data);
              if (hb.address) this.#addresses.set(hb.node, hb.address);
            }
            const m = decodeTelemetry(msg.subject, msg.data);
            if (m) {
              this.#view = applyTelemetry(this.#view, m);
              this.lastSeen.set(m.node, m.at);
            }
          } catch (error) {
            this.logger.warn({ err: error, subject: msg.subject }, 'undecodable telemetry dropped');
          }
        },
      });
      this.#subs.push(sub);
    }
    if (store) {
      const bucket = store.bucket(buckets.nodes, nodeRecordSchema);
      this.#timer = setInterval(() => {
        void Promise.all(
          this.view.nodes.map((n: NodeView) =>
            bucket.update(nodeKey(n.name), (cur) => ({
              address: this.#addresses.get(n.name) ?? cur?.value.address ?? '',
              view: n,
              drained: cur?.value.drained ?? false,
              at: Date.now(),
            })),
          ),
        ).catch((err: unknown) => this.logger.debug({ err }, 'view not persisted'));
      }, persistEveryMs);
      this.#timer.unref();
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    for (const s of this.#subs) s.unsubscribe();
  }
}

/** The view as the leader last wrote it, for CLIs and standbys. Drained nodes are marked down. */
export async function readStoredView(store: StateStore, cluster: string): Promise<{ view: ClusterView; addresses: Map<string, string>; drained: Set<string> }> {
  const bucket = store.bucket(buckets.nodes, nodeRecordSchema);
  const entries = await bucket.list(kvPrefix('node'));
  const addresses = new Map<string, string>();
  const drained = new Set<string>();
  const nodes: NodeView[] = [];
  for (const e of entries) {
    const n = e.value.view as NodeView;
    nodes.push(n);
    addresses.set(n.name, e.value.address);
    if (e.value.drained) drained.add(n.name);
  }
  nodes.sort((a, b) => a.name.localeCompare(b.name));
  return { view: { ...emptyView({ cluster, now: Date.now() }), nodes }, addresses, drained };
}
