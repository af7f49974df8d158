/**
 * One guest (kind + VMID) with the operations the pipeline runs on it. Everything `pct` and `qm`
 * do alike goes through the kind's tool; running commands inside goes through the kind. Each
 * call that can change the guest is registered as in flight for its VMID.
 */
import type { ExecResult, GuestConfig, GuestRunState, SnapshotEntry } from '../drivers/types.js';
import { sig, type PipelineContext } from './context.js';
import type { ExecRequest, GuestKindDriver, Kind } from './guest-kind.js';

type Signal = { signal?: AbortSignal };

export interface GuestOps {
  kind: Kind;
  driver: GuestKindDriver;
  vmid: number;
  word: 'CT' | 'VM';
  config(o?: Signal): Promise<GuestConfig>;
  snapshotConfig(name: string, o?: Signal): Promise<GuestConfig>;
  status(o?: Signal): Promise<GuestRunState>;
  start(o?: Signal): Promise<void>;
  shutdown(timeoutSeconds: number, o?: Signal): Promise<void>;
  setDescription(text: string, o?: Signal): Promise<void>;
  /** Runs a command in the guest; `mutating` false for probes (health checks). */
  exec(command: readonly string[], r: ExecRequest): Promise<ExecResult>;
  push(path: string, content: Buffer | string, mode: string, o?: Signal): Promise<void>;
  listSnapshots(o?: Signal): Promise<SnapshotEntry[]>;
  snapshot(name: string, description: string | undefined, o?: Signal): Promise<void>;
  delsnapshot(name: string, o?: Signal): Promise<void>;
  rollback(name: string, start: boolean, o?: Signal): Promise<void>;
  template(o?: Signal): Promise<void>;
  destroy(options: { purge: boolean; destroyUnreferencedDisks?: boolean }, o?: Signal): Promise<void>;
  unlock(o?: Signal): Promise<void>;
}

export function guestOps(c: PipelineContext, kind: GuestKindDriver, vmid: number): GuestOps {
  const tool = kind.tool(c.d);
  const t = <T>(fn: () => Promise<T>) => c.inflight.track([vmid], fn);
  return {
    kind: kind.kind,
    driver: kind,
    vmid,
    word: kind.word,
    config: (o) => tool.config(vmid, sig(o)),
    snapshotConfig: (name, o) => tool.config(vmid, { ...sig(o), snapshot: name }),
    status: (o) => tool.status(vmid, sig(o)),
    start: (o) => t(() => tool.start(vmid, sig(o))),
    shutdown: (s, o) => t(() => tool.shutdown(vmid, s, true, sig(o))),
    setDescription: (text, o) => t(() => tool.set(vmid, { description: text }, [], sig(o))),
    exec: (command, r) => kind.exec(c, vmid, command, r),
    push: (path, content, mode, o) => kind.push(c, vmid, path, content, mode, o ?? {}),
    listSnapshots: (o) => tool.listSnapshots(vmid, sig(o)),
    snapshot: (name, d, o) => t(() => tool.snapshot(vmid, name, d, sig(o))),
    delsnapshot: (name, o) => t(() => tool.delsnapshot(vmid, name, sig(o))),
    rollback: (name, start, o) => t(() => tool.rollback(vmid, name, start, sig(o))),
    template: (o) => t(() => tool.template(vmid, sig(o))),
    destroy: (options, o) => t(() => tool.destroy(vmid, options, sig(o))),
    unlock: (o) => t(() => tool.unlock(vmid, sig(o))),
  };
}
