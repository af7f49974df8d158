/** A CLI session against a live cluster: context, NATS, state store and the stored view. */
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, loadContext, type ClusterContext } from '../../context/index.js';
import { readStoredView } from '../../nodes/index.js';
import { StateStore } from '../../state/index.js';
import { markDrained } from '../../view/liveness.js';
import type { ClusterView } from '../../view/types.js';

export interface ClusterSession {
  ctx: ClusterContext;
  nc: NatsConnection;
  store: StateStore;
  close(): Promise<void>;
  view(): Promise<{ view: ClusterView; drained: Set<string>; addresses: Map<string, string> }>;
}

export async function openSession(contextPath: string | undefined): Promise<ClusterSession> {
  const ctx = await loadContext(contextPath);
  const nc = await connectNats(ctx, ctx.name, { reconnect: true });
  const store = await StateStore.open(nc);
  return {
    ctx,
    nc,
    store,
    close: () => nc.drain().catch(() => undefined),
    async view() {
      const { view, drained, addresses } = await readStoredView(store, ctx.cluster);
      return { view: markDrained(view, drained), drained, addresses };
    },
  };
}

/** The view the leader last stored, as of now. */
export async function liveView(context: string | undefined): Promise<ClusterView> {
  const s = await openSession(context);
  try {
    return { ...(await s.view()).view, observedAt: Date.now() };
  } finally {
    await s.close();
  }
}

/** Runs fn with a session and always closes it. */
export async function withSession<T>(path: string | undefined, fn: (s: ClusterSession) => Promise<T>): Promise<T> {
  const session = await openSession(path);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}
