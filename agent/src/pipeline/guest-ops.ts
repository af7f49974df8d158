/** The operations the shared pipeline tail needs, for a container (pct) or a VM (qm). */
import type { ExecResult, GuestConfig, GuestRunState, SnapshotEntry } from '../drivers/types.js';
import { sig, type PipelineContext } from './context.js';
import type { Kind } from './guest-state.js';

export interface GuestOps {
  kind: Kind;
  vmid: number;
  word: 'CT' | 'VM';
  config(o?: { signal?: AbortSignal }): Promise<GuestConfig>;
  snapshotConfig(name: string, o?: { signal?: AbortSignal }): Promise<GuestConfig>;
  status(o?: { signal?: AbortSignal }): Promise<GuestRunState>;
  start(o?: { signal?: AbortSignal }): Promise<void>;
  shutdown(timeoutSeconds: number, o?: { signal?: AbortSignal }): Promise<void>;
  setDescription(text: string, o?: { signal?: AbortSignal }): Promise<void>;
  /** Runs a command in the guest; `mutating` false for probes (health checks). */
  exec(command: readonly string[], opts: { mutating: boolean; timeoutMs?: number; signal?: AbortSignal; input?: string }): Promise<ExecResult>;
  listSnapshots(o?: { signal?: AbortSignal }): Promise<SnapshotEntry[]>;
  snapshot(name: string, description: string | undefined, o?: { signal?: AbortSignal }): Promise<void>;
  delsnapshot(name: string, o?: { signal?: AbortSignal }): Promise<void>;
  template(o?: { signal?: AbortSignal }): Promise<void>;
}

export function guestOps(c: PipelineContext, kind: Kind, vmid: number): GuestOps {
  const t = <T>(fn: () => Promise<T>) => c.inflight.track([vmid], fn);
  if (kind === 'lxc') {
    const pct = c.d.pct;
    return {
      kind,
      vmid,
      word: 'CT',
      config: (o) => pct.config(vmid, sig(o)),
      snapshotConfig: (name, o) => pct.config(vmid, { ...sig(o), snapshot: name }),
      status: (o) => pct.status(vmid, sig(o)),
      start: (o) => t(() => pct.start(vmid, sig(o))),
      shutdown: (s, o) => t(() => pct.shutdown(vmid, s, true, sig(o))),
      setDescription: (text, o) => t(() => pct.set(vmid, { description: text }, [], sig(o))),
      exec: (command, opts) =>
        t(() =>
          pct.exec(vmid, command, {
            mutating: opts.mutating,
            ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
            ...(opts.signal ? { signal: opts.signal } : {}),
            ...(opts.input !== undefined ? { input: opts.input } : {}),
          }),
        ),
      listSnapshots: (o) => pct.listSnapshots(vmid, sig(o)),
      snapshot: (name, d, o) => t(() => pct.snapshot(vmid, name, d, sig(o))),
      delsnapshot: (name, o) => t(() => pct.delsnapshot(vmid, name, sig(o))),
      template: (o) => t(() => pct.template(vmid, sig(o))),
    };
  }
  const qm = c.d.qm;
  return {
    kind,
    vmid,
    word: 'VM',
    config: (o) => qm.config(vmid, sig(o)),
    snapshotConfig: (name, o) => qm.config(vmid, { ...sig(o), snapshot: name }),
    status: (o) => qm.status(vmid, sig(o)),
    start: (o) => t(() => qm.start(vmid, sig(o))),
    shutdown: (s, o) => t(() => qm.shutdown(vmid, s, true, sig(o))),
    setDescription: (text, o) => t(() => qm.set(vmid, { description: text }, [], sig(o))),
    exec: (command, opts) =>
      t(() =>
        qm.guestExec(vmid, command, {
          mutating: opts.mutating,
          timeoutSeconds: Math.ceil((opts.timeoutMs ?? 30_000) / 1000),
          ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs + 30_000 } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.input !== undefined ? { input: opts.input } : {}),
        }),
      ),
    listSnapshots: (o) => qm.listSnapshots(vmid, sig(o)),
    snapshot: (name, d, o) => t(() => qm.snapshot(vmid, name, d, sig(o))),
    delsnapshot: (name, o) => t(() => qm.delsnapshot(vmid, name, sig(o))),
    template: (o) => t(() => qm.template(vmid, sig(o))),
  };
}
