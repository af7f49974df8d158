/**
 * One apply run's journal keyed by guest, in the shape the plan executor asks for
 * (`isDone` / `markStarted` / `markDone`). Starting a guest that a deposed leader left "started"
 * takes it over (one successor wins); a guest that failed in this run is started again as a new
 * attempt. The idempotency key to send with the guest's agent calls comes from the journal, so a
 * successor re-sends the same one.
 */
import { FailedPreconditionError, isPhoenixError } from '@phoenix/shared';
import { StepOwnedError, type ApplyJournal, type JournalActor, type StepHandle } from './journal.js';

/** What the executor reports for a guest (structurally the same as its GuestOutcome). */
export interface GuestOutcomeLike {
  readonly status: 'converged' | 'failed' | 'blocked' | 'skipped';
  readonly changed: boolean;
  readonly error?: unknown;
}

export class RunJournal {
  readonly runId: string;
  readonly #journal: ApplyJournal;
  readonly #actor: JournalActor;
  readonly #handles = new Map<string, StepHandle>();

  constructor(journal: ApplyJournal, runId: string, actor: JournalActor) {
    this.#journal = journal;
    this.runId = runId;
    this.#actor = actor;
  }

  async isDone(guestId: string): Promise<boolean> {
    return (await this.#journal.getStep(this.runId, guestId))?.value.state === 'done';
  }

  /** Claims the guest for this coordinator; StepOwnedError when another live owner has it or it is done. */
  async markStarted(guestId: string): Promise<void> {
    let handle: StepHandle;
    try {
      handle = await this.#journal.recordStepStarted(this.runId, guestId, this.#actor, { retryFailed: true });
    } catch (err) {
      if (!(err instanceof StepOwnedError) || err.current.state !== 'started') throw err;
      const own = err.current.owner === this.#actor.owner && err.current.fencingToken === this.#actor.fencingToken;
      if (!own && err.current.fencingToken >= this.#actor.fencingToken) throw err;
      handle = await this.#journal.takeOverStep(this.runId, guestId, this.#actor, err.revision);
    }
    this.#handles.set(guestId, handle);
  }

  /** The idempotency key for the guest's agent calls (after markStarted). */
  idempotencyKey(guestId: string): string {
    return this.#handle(guestId).record.idempotencyKey;
  }

  async markDone(guestId: string, outcome: GuestOutcomeLike): Promise<void> {
    const handle = this.#handle(guestId);
    if (outcome.status === 'converged' || outcome.status === 'skipped') {
      await this.#journal.recordStepDone(handle, { status: outcome.status, changed: outcome.changed });
    } else {
      const err = outcome.error;
      await this.#journal.recordStepFailed(handle, {
        code: outcome.status === 'blocked' ? 'BLOCKED' : isPhoenixError(err) ? err.code : 'FAILED',
        message: err instanceof Error ? err.message : outcome.status,
      });
    }
    this.#handles.delete(guestId);
  }

  #handle(guestId: string): StepHandle {
    const handle = this.#handles.get(guestId);
    if (!handle) throw new FailedPreconditionError(`guest ${guestId} was not started in run ${this.runId} by this coordinator`);
    return handle;
  }
}
