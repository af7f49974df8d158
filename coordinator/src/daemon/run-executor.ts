/**
 * The leader's side of apply: follows requests in KV (a watch, no polling), plans them against
 * the current view with drained nodes taking nothing new, executes through the agents and
 * journals every guest, publishing events as it goes. A request whose run is still "running"
 * under an older leader is resumed: the journal and the agents' idempotency keys make sure
 * nothing is done twice. Requests of runs finished longer ago than the retention are deleted.
 */
import { executeWithOpenShift, type ClusterEvent, type OpenShiftDriver } from '../apply/index.js';
import { agentIsoTransfer, InstallerDriver, removeOpenShiftCluster, type OpenShiftInstaller, type RenderManifests } from '../openshift/index.js';
import type { PlannedCluster } from '../plan/index.js';
import { readOpenShiftRecords } from '../state/index.js';
import type { SecretStore } from '../secrets/index.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { subjects, type Logger } from '@phoenix/shared';
import { Allocator } from '../alloc/index.js';
import { AgentClient } from '../agents/index.js';
import { buildPlan, type PlannedGuest } from '../plan/index.js';
import { RequestQueue, specBucket, sweepFinishedRequests, SPEC_KEY, type ApplyRequest, type RunEvent } from '../requests/index.js';
import { agentRunner, type ApplyEvent, type GuestOutcome } from '../apply/index.js';
import { loadSpecText } from '../spec/load.js';
import { ApplyJournal, RunJournal, type StateStore } from '../state/index.js';
import type { TlsMaterial } from '@phoenix/shared';
import type { ViewKeeper } from './view-keeper.js';

export interface RunExecutorOptions {
  nc: NatsConnection;
  store: StateStore;
  keeper: ViewKeeper;
  cluster: string;
  id: string;
  tls: TlsMaterial;
  caPem: string;
  perNode: number;
  token: () => number;
  logger: Logger;
  /** Requests of runs finished longer ago than this are deleted. */
  requestRetentionMs: number;
  /** Installs OpenShift clusters; without it their VMs are held back and reported. */
  openshift?: { installer: OpenShiftInstaller; render: RenderManifests; workDir: string };
  /** Resolves spec secret references and stores what Phoenix creates. */
  secrets: SecretStore;
}

/** How often finished requests are looked for, at most (less when the retention is shorter). */
const SWEEP_EVERY_MS = 60_000;
/** Pause before a run that failed outside its guests (e.g. the journal was unreachable) is tried again. */
const RETRY_AFTER_MS = 1_000;

export class RunExecutor {
  readonly #journal: ApplyJournal;
  readonly #clients = new Map<string, AgentClient>();
  readonly #active = new Set<string>();
  /** Runs known to be finished: their requests wait only for the retention sweep. */
  readonly #finished = new Set<string>();
  #queue: RequestQueue | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #abort = new AbortController();
  #pumping = false;
  #again = false;

  readonly #driver: OpenShiftDriver | undefined;
  readonly #isos = agentIsoTransfer((node) => this.#client(node));

  constructor(private readonly o: RunExecutorOptions) {
    this.#journal = new ApplyJournal(o.store);
    this.#driver = o.openshift && new InstallerDriver({ ...o.openshift, secrets: o.secrets, store: o.store, isos: this.#isos, logger: o.logger });
  }

  /** Follows requests while leading. */
  async start(): Promise<void> {
    this.#abort = new AbortController();
    const queue = new RequestQueue(this.o.store, () => this.#kick(), this.o.logger);
    this.#queue = queue;
    await queue.start();
    const every = Math.min(SWEEP_EVERY_MS, Math.max(1000, this.o.requestRetentionMs));
    this.#sweepTimer = setInterval(() => {
      void this.sweep().catch((err: unknown) => this.o.logger.warn({ err }, 'request sweep failed'));
    }, every);
    this.#sweepTimer.unref();
    this.#kick();
  }

  stop(): void {
    clearInterval(this.#sweepTimer);
    this.#queue?.stop();
    this.#queue = undefined;
    this.#abort.abort();
  }

  /** True while a run is being executed. */
  get busy(): boolean {
    return this.#active.size > 0;
  }

  /** Deletes the requests of runs finished longer ago than the retention; returns their run ids. */
  async sweep(now = Date.now()): Promise<string[]> {
    const known = this.#queue?.oldestFirst().filter((r) => !this.#active.has(r.value.runId)) ?? [];
    const swept = await sweepFinishedRequests(this.o.store, this.#journal, known, this.o.requestRetentionMs, now);
    for (const id of swept) this.#finished.delete(id);
    if (swept.length > 0) this.o.logger.info({ requests: swept.length }, 'finished requests past their retention deleted');
    return swept;
  }

  /** Looks at the queue again; changes that arrive while it looks make it look once more. */
  #kick(): void {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    void this.#next()
      .catch((err: unknown) => this.o.logger.warn({ err }, 'request pick-up failed'))
      .finally(() => {
        this.#pumping = false;
        if (this.#again) {
          this.#again = false;
          this.#kick();
        }
      });
  }

  async #next(): Promise<void> {
    // One run at a time, oldest first: later runs see the earlier one's result.
    if (this.#active.size > 0 || !this.#queue) return;
    for (const { value: req } of this.#queue.oldestFirst()) {
      if (this.#finished.has(req.runId)) continue;
      const run = await this.#journal.getRun(req.runId);
      if (run && run.state !== 'running') {
        this.#finished.add(req.runId);
        continue;
      }
      this.#active.add(req.runId);
      void this.#execute(req, run !== null).then(
        () => {
          this.#active.delete(req.runId);
          this.#kick();
        },
        (err: unknown) => {
          // The run is still "running" in the journal: it is picked up again after a pause.
          this.o.logger.error({ err, runId: req.runId }, 'run failed');
          this.#active.delete(req.runId);
          setTimeout(() => this.#kick(), RETRY_AFTER_MS).unref();
        },
      );
      return;
    }
  }

  #client(node: string): AgentClient {
    let c = this.#clients.get(node);
    const address = this.o.keeper.address(node);
    if (!address) throw new Error(`no address known for the agent on ${node}`);
    if (!c) {
      c = new AgentClient({ node, address }, { tls: this.o.tls, requester: `coordinator/${this.o.id}`, fencingToken: this.o.token });
      this.#clients.set(node, c);
    }
    return c;
  }

  #publish(event: Omit<RunEvent, 'time'>): void {
    this.o.nc.publish(subjects.events(this.o.cluster, 'apply'), JSON.stringify({ ...event, time: new Date().toISOString() }));
  }

  async #execute(req: ApplyRequest, resume: boolean): Promise<void> {
    const actor = { owner: this.o.id, fencingToken: this.o.token() };
    if (resume) await this.#journal.resumeRun(req.runId, actor);
    else await this.#journal.startRun(req.runId, actor, { kind: req.kind });
    this.o.logger.info({ runId: req.runId, kind: req.kind, resume }, 'run started');
    let state: 'succeeded' | 'failed' | 'partial' = 'failed';
    let message = '';
    try {
      const { outcomes, notConverged } = await this.#runPlan(req, actor);
      const failed = outcomes.filter((o) => o.status === 'failed' || o.status === 'blocked').length + notConverged;
      state = failed === 0 ? 'succeeded' : failed === outcomes.length + notConverged ? 'failed' : 'partial';
    } catch (err) {
      message = err instanceof Error ? err.message : String(err);
      this.o.logger.error({ err, runId: req.runId }, 'run could not be planned');
    }
    await this.#journal.finishRun(req.runId, actor, state);
    this.#publish({ runId: req.runId, type: 'finished', runState: state, ...(message ? { error: message } : {}) });
  }

  async #runPlan(req: ApplyRequest, actor: { owner: string; fencingToken: number }): Promise<{ outcomes: GuestOutcome[]; notConverged: number }> {
    const specRecord = await specBucket(this.o.store).get(SPEC_KEY);
    if (!specRecord) throw new Error('no spec has been submitted');
    const { compiled } = loadSpecText(specRecord.value.yaml, 'spec');
    const allocator = new Allocator(this.o.store, { networks: [...compiled.networks.values()] });
    let guests: PlannedGuest[];
    let clusters: readonly PlannedCluster[] = [];
    /** Planned items without a guest outcome that did not converge: unplaced guests, clusters not installed. */
    let notConverged = 0;
    if (req.kind === 'apply') {
      const plan = await buildPlan(compiled, await this.o.keeper.planningView(this.o.store), {
        limits: { perNode: this.o.perNode },
        allocator,
        featureParams: { trusted_ca: { ca_cert: this.o.caPem } },
        scripts: specRecord.value.files,
        openshiftRecords: await readOpenShiftRecords(this.o.store),
      });
      clusters = plan.openshift;
      for (const u of plan.unplaced) this.#publish({ runId: req.runId, type: 'done', guest: u.guest, status: 'unplaced', error: u.reason });
      notConverged = plan.unplaced.length;
      guests = plan.guests;
      this.#publish({ runId: req.runId, type: 'plan', message: JSON.stringify({ guests: guests.map((g) => ({ id: g.id, node: g.node, vmid: g.vmid, action: g.action })), estimate: plan.estimate.makespanSeconds }) });
    } else {
      guests = await this.#deletions(req, allocator);
    }
    const emit = (e: ApplyEvent): void => {
      const base = { runId: req.runId, guest: e.guest.id, node: e.guest.node, vmid: e.guest.vmid };
      if (e.type === 'start') this.#publish({ ...base, type: 'start', message: e.guest.action });
      else if (e.type === 'progress') this.#publish({ ...base, type: 'progress', step: e.step, state: e.state, message: e.message });
      else if (e.type === 'log') this.#publish({ ...base, type: 'log', step: e.step, message: e.line });
      else {
        const err = e.outcome.error;
        this.#publish({ ...base, type: 'done', status: e.outcome.status, changed: e.outcome.changed, ...(err ? { error: err instanceof Error ? err.message : String(err) } : {}) });
      }
    };
    const emitCluster = (e: ClusterEvent): void =>
      this.#publish({ runId: req.runId, type: 'cluster', guest: `openshift/${e.cluster}`, step: e.step, state: e.state, message: e.message, ...(e.host ? { host: e.host } : {}) });
    const result = await executeWithOpenShift(guests, {
      limits: { perNode: this.o.perNode },
      runner: agentRunner((node) => this.#client(node)),
      journal: new RunJournal(this.#journal, req.runId, actor),
      emit,
      signal: this.#abort.signal,
      clusters,
      driver: this.#driver,
      emitCluster,
    });
    const outcomes = result.guests;
    for (const c of result.clusters) {
      if (c.status === 'unchanged') continue;
      const err = c.error;
      this.#publish({ runId: req.runId, type: 'done', guest: `openshift/${c.cluster}`, status: c.status, changed: c.status === 'installed', ...(err ? { error: err instanceof Error ? err.message : String(err) } : {}) });
      if (c.status !== 'installed') notConverged += 1;
    }
    if (req.kind !== 'apply') {
      for (const o of outcomes) if (o.status === 'converged') await allocator.release(o.id);
      notConverged += await this.#removeClusters(req, outcomes);
    }
    return { outcomes, notConverged };
  }

  /**
   * After a destroy (every cluster) or a cluster's delete: the ISOs, credentials, install
   * directory and record of each cluster whose VMs are all gone. Returns how many stayed.
   */
  async #removeClusters(req: ApplyRequest, outcomes: readonly GuestOutcome[]): Promise<number> {
    const records = [...(await readOpenShiftRecords(this.o.store)).values()].filter((r) => req.kind === 'destroy' || r.cluster === req.cluster);
    let kept = 0;
    for (const record of records) {
      const guest = `openshift/${record.cluster}`;
      const left = outcomes.filter((o) => record.guests.includes(o.id) && o.status !== 'converged');
      if (left.length > 0) {
        kept += 1;
        this.#publish({ runId: req.runId, type: 'done', guest, status: 'blocked', error: `VMs not removed: ${left.map((o) => o.id).join(', ')}` });
        continue;
      }
      try {
        const removed = await removeOpenShiftCluster(record, { isos: this.#isos, secrets: this.o.secrets, store: this.o.store, workDir: this.o.openshift?.workDir }, this.#abort.signal);
        const what = [`${removed.isos.length} ISO${removed.isos.length === 1 ? '' : 's'}`, removed.credentials ? 'credentials' : undefined, 'install record'].filter(Boolean).join(', ');
        this.#publish({ runId: req.runId, type: 'done', guest, status: 'converged', changed: true, message: `removed ${what}` });
      } catch (err) {
        kept += 1;
        this.#publish({ runId: req.runId, type: 'done', guest, status: 'failed', error: err instanceof Error ? err.message : String(err) });
      }
    }
    return kept;
  }

  /** Guests to remove: one by name, a cluster's VMs, or every guest Phoenix allocated; dependents before templates. */
  async #deletions(req: ApplyRequest, allocator: Allocator): Promise<PlannedGuest[]> {
    const allocations = await allocator.list();
    const view = this.o.keeper.view;
    const clusterGuests = req.cluster === undefined ? undefined : new Set((await readOpenShiftRecords(this.o.store)).get(req.cluster)?.guests ?? []);
    const targets = allocations.filter((a) =>
      req.kind === 'destroy' || (clusterGuests ? clusterGuests.has(a.guestId) : a.guestId === req.guest || a.guestId.startsWith(`${req.guest}@`)),
    );
    const located = targets.flatMap((a) => {
      const node = view.nodes.find((n) => n.guests.some((g) => g.vmid === a.vmid));
      return node ? [{ id: a.guestId, vmid: a.vmid, node: node.name }] : [];
    });
    // Clones can only go after their sources: delete in descending VMID-chain order by making
    // every guest depend on the ones that clone from it is unknown here, so delete templates last.
    const templates = new Set(view.nodes.flatMap((n) => n.guests.filter((g) => g.template || g.snapshots.length > 0).map((g) => `${n.name}/${g.vmid}`)));
    const leaves = located.filter((l) => !templates.has(`${l.node}/${l.vmid}`));
    return located.map((l) => ({
      id: l.id,
      vmid: l.vmid,
      node: l.node,
      action: 'delete' as const,
      steps: [{ name: 'delete', reason: req.kind === 'destroy' ? 'destroy' : 'deleted from the cluster', estSeconds: 2 }],
      dependsOn: templates.has(`${l.node}/${l.vmid}`) ? leaves.map((x) => x.id) : [],
    }));
  }
}
