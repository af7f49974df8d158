/**
 * Builds the cluster view from agent telemetry on NATS and remembers where each agent listens.
 * The view is also written to the nodes bucket (one key per node) so the CLI and standby
 * coordinators see what the leader sees. Planning uses `planningView`: the live view with the
 * nodes drained in the bucket marked down.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { subjects, type Logger } from '@phoenix/shared';
import { drainedNodes, nodeBucket, nodeKey } from '../nodes/index.js';
import type { StateStore } from '../state/index.js';
import { decodeTelemetry, heartbeatAddress } from '../view/decode.js';
import { markDrained } from '../view/liveness.js';
import { advanceClock, applyTelemetry, emptyView } from '../view/telemetry.js';
import type { ClusterView, NodeView } from '../view/types.js';

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

  /** The view to place guests on: drained nodes (read from the bucket now) take nothing new. */
  async planningView(store: StateStore): Promise<ClusterView> {
    return markDrained(this.view, await drainedNodes(store));
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
      const bucket = nodeBucket(store);
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
    this.#subs.length = 0;
  }
}
