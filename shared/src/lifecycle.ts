/**
 * A daemon's lifecycle (agent and coordinator alike): starting → running → draining → stopped.
 * Transitions only go forward; listeners (health status, metrics, heartbeat, logs) follow every change.
 */
import { commonv1 } from './proto.js';

export type DaemonState = 'starting' | 'running' | 'draining' | 'stopped';

const ORDER: readonly DaemonState[] = ['starting', 'running', 'draining', 'stopped'];

const PROTO: Record<DaemonState, commonv1.DaemonState> = {
  starting: commonv1.DaemonState.STARTING,
  running: commonv1.DaemonState.RUNNING,
  draining: commonv1.DaemonState.DRAINING,
  stopped: commonv1.DaemonState.STOPPED,
};

export class Lifecycle {
  private current: DaemonState = 'starting';
  private readonly listeners: Array<(state: DaemonState) => void> = [];

  get state(): DaemonState {
    return this.current;
  }

  get proto(): commonv1.DaemonState {
    return PROTO[this.current];
  }

  onChange(listener: (state: DaemonState) => void): void {
    this.listeners.push(listener);
  }

  /** Moves forward to `next`; returns false (and changes nothing) if already there or past it. */
  advance(next: DaemonState): boolean {
    if (ORDER.indexOf(next) <= ORDER.indexOf(this.current)) return false;
    this.current = next;
    for (const listener of this.listeners) listener(next);
    return true;
  }
}
