import fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { readJson, writeJson } from './atomic-file.js';
import { appendCall } from './calls-log.js';
import type { Ctx, Midpoint } from './ctx.js';
import type { State } from './state.js';

/**
 * Injected faults of one node, kept in `$PVE_EMU_STATE/faults.json` (rules) and
 * `fault-state.json` (how often each rule matched).
 */
export type FaultKind = 'fail' | 'hang' | 'die' | 'node-down';

export interface FaultRule {
  /** Stable name; defaults to the rule's position. */
  id?: string;
  /** Tool to match ('pct', 'qm', 'pvesh', ...); any when absent. */
  tool?: string;
  /** Subcommand to match, unabbreviated ('create', 'clone', 'guest exec', 'get'); any when absent. */
  command?: string;
  /** Only calls whose first positional argument is this VMID. */
  vmid?: number;
  /** Fires on the nth matching call (1-based, default 1). */
  nth?: number;
  /** Keep firing on every matching call from the nth on (default: fire once). */
  persistent?: boolean;
  kind: FaultKind;
  /** 'fail' and 'node-down': text printed to stderr. */
  message?: string;
  /** 'fail' and 'node-down': exit code (default 255 / 111). */
  exitCode?: number;
  /** 'hang' and 'die': at the start of the call or half-way through a long operation. */
  at?: 'start' | 'midway';
  /** 'node-down': fail every call (default) or hang every call. */
  mode?: 'fail' | 'hang';
}

export interface FaultsFile {
  rules: FaultRule[];
}

interface FaultState {
  counts: Record<string, number>;
}

export const NODE_DOWN_MESSAGE =
  'ipcc_send_rec[1] failed: Connection refused\nipcc_send_rec[2] failed: Connection refused\n' +
  'ipcc_send_rec[3] failed: Connection refused\nUnable to load access control list: Connection refused\n';

export function ruleId(rule: FaultRule, index: number): string {
  return rule.id ?? `#${index}`;
}

export function readFaults(state: State): FaultsFile {
  return readJson<FaultsFile>(state.faultsFile, { rules: [] });
}

export async function writeFaults(state: State, faults: FaultsFile): Promise<void> {
  await state.withStateLock(() => {
    writeJson(state.faultsFile, faults);
    writeJson(state.faultStateFile, { counts: {} });
  });
}

export interface CallIdentity {
  tool: string;
  command: string;
  vmid: number | undefined;
}

/** What an invocation has to do because of faults. */
export class FaultPlan implements Midpoint {
  midwayRule: FaultRule | undefined;
  private consumed = false;

  constructor(
    readonly startRule: FaultRule | undefined,
    midwayRule: FaultRule | undefined,
    private readonly onDie: () => void,
  ) {
    this.midwayRule = midwayRule;
  }

  static none(): FaultPlan {
    return new FaultPlan(undefined, undefined, () => {});
  }

  /** Runs a pending mid-way fault once: kill ourselves (leaving locks behind) or hang. */
  async midpoint(ctx: Ctx): Promise<void> {
    const rule = this.midwayRule;
    if (!rule || this.consumed) return;
    this.consumed = true;
    if (rule.kind === 'die') {
      this.onDie();
      ctx.out('');
      process.kill(process.pid, 'SIGKILL');
      await hangForever();
    }
    if (rule.kind === 'hang') await hangForever();
  }

  get pendingMidway(): boolean {
    return this.midwayRule !== undefined && !this.consumed;
  }
}

export async function hangForever(): Promise<never> {
  for (;;) await delay(3_600_000);
}

function matches(rule: FaultRule, call: CallIdentity): boolean {
  if (rule.kind === 'node-down') return rule.tool === undefined || rule.tool === call.tool;
  if (rule.tool !== undefined && rule.tool !== call.tool) return false;
  if (rule.command !== undefined && rule.command !== call.command) return false;
  if (rule.vmid !== undefined && rule.vmid !== call.vmid) return false;
  return true;
}

/** Counts this call against every matching rule and returns what has to happen. */
export async function planFaults(state: State, call: CallIdentity, logDeath: () => void): Promise<FaultPlan> {
  if (!fs.existsSync(state.faultsFile)) return FaultPlan.none();
  const faults = readFaults(state);
  if (!faults.rules.length) return FaultPlan.none();
  let start: FaultRule | undefined;
  let midway: FaultRule | undefined;
  await state.withStateLock(() => {
    const fstate = readJson<FaultState>(state.faultStateFile, { counts: {} });
    faults.rules.forEach((rule, i) => {
      if (!matches(rule, call)) return;
      const id = ruleId(rule, i);
      const count = (fstate.counts[id] ?? 0) + 1;
      fstate.counts[id] = count;
      const nth = rule.nth ?? 1;
      const fire = rule.kind === 'node-down' ? count >= nth : count === nth || (rule.persistent === true && count > nth);
      if (!fire) return;
      const at = rule.at ?? (rule.kind === 'die' ? 'midway' : 'start');
      if (rule.kind === 'node-down' || rule.kind === 'fail' || at === 'start') start ??= rule;
      else midway ??= rule;
    });
    writeJson(state.faultStateFile, fstate);
  });
  return new FaultPlan(start, midway, logDeath);
}

/** Applies a start-of-call fault. Returns an exit code when the call must end now. */
export async function applyStartFault(ctx: Ctx, rule: FaultRule): Promise<number | undefined> {
  if (rule.kind === 'node-down') {
    if (rule.mode === 'hang') await hangForever();
    ctx.stderr(rule.message ?? NODE_DOWN_MESSAGE);
    return rule.exitCode ?? 111;
  }
  if (rule.kind === 'fail') {
    const msg = rule.message ?? 'emulated failure';
    ctx.stderr(msg.endsWith('\n') ? msg : `${msg}\n`);
    return rule.exitCode ?? 255;
  }
  if (rule.kind === 'hang') await hangForever();
  if (rule.kind === 'die') {
    appendDeath(ctx);
    process.kill(process.pid, 'SIGKILL');
    await hangForever();
  }
  return undefined;
}

function appendDeath(ctx: Ctx): void {
  appendCall(ctx.state.callsLog, {
    time: new Date().toISOString(),
    tool: ctx.tool,
    argv: ctx.argv,
    exitCode: 137,
    durationMs: 0,
    node: ctx.node,
    pid: process.pid,
  });
}
