import { setTimeout as delay } from 'node:timers/promises';

/**
 * Realistic durations (seconds) of PVE operations, estimates from the reference (§8). Every sleep
 * and every lock timeout is multiplied by PVE_EMU_TIME_SCALE so tests can run fast.
 */
export const DURATIONS = {
  pctCreate: 20,
  pctFullClone: 30,
  linkedClone: 2,
  pctStart: 3,
  pctStop: 2,
  pctShutdown: 4,
  qmCreate: 3,
  qmFullClone: 30,
  qmStart: 3,
  qmStop: 2,
  qmShutdown: 5,
  qmReboot: 6,
  /** Time after `qm start` until the guest agent answers a ping. */
  qmAgentBoot: 15,
  snapshot: 1,
  delsnapshot: 1,
  rollback: 2,
  destroy: 2,
  template: 1,
  resize: 1,
  importDisk: 10,
  download: 10,
  storageAlloc: 0.5,
  cloudinitUpdate: 0.5,
  configWrite: 0,
} as const;

export type DurationName = keyof typeof DURATIONS;

/** Default wait of PVE's lock_file (10 s), create_and_lock_config (5 s) and qm clone (1 s). */
export const LOCK_TIMEOUTS = { config: 10, create: 5, qmClone: 1 } as const;

export class Clock {
  constructor(readonly scale: number) {}

  ms(seconds: number): number {
    return seconds * 1000 * this.scale;
  }

  async sleep(seconds: number): Promise<void> {
    const ms = this.ms(seconds);
    if (ms > 0) await delay(ms);
  }

  async sleepFor(name: DurationName): Promise<void> {
    await this.sleep(DURATIONS[name]);
  }
}
