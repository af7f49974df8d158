import { appendCall } from './core/calls-log.js';
import { Ctx } from './core/ctx.js';
import { readEnv } from './core/env.js';
import { EmulatorError, errorText } from './core/errors.js';
import { applyStartFault, planFaults, type CallIdentity } from './core/faults.js';
import { State } from './core/state.js';
import { ensureInitialized, initFromEnv } from './node-init.js';

/**
 * Entry point of every emulated executable (test/emulator/bin/*). Sets process.exitCode and
 * writes stdout/stderr as the real tool would; appends one line per call to calls.log.
 */
type ToolMain = (ctx: Ctx, argv: string[]) => Promise<number>;

const TOOLS: Record<string, () => Promise<ToolMain>> = {
  pct: async () => (await import('./pct/pct.js')).pctMain,
  qm: async () => (await import('./qm/qm.js')).qmMain,
  pvesh: async () => (await import('./pvesh/pvesh.js')).pveshMain,
  pvesm: async () => (await import('./pvesm/pvesm.js')).pvesmMain,
  pveam: async () => (await import('./pveam/pveam.js')).pveamMain,
  zfs: async () => (await import('./zfs/zfs.js')).zfsMain,
  zpool: async () => (await import('./zfs/zpool.js')).zpoolMain,
  lsblk: async () => (await import('./host/lsblk.js')).lsblkMain,
  apparmor_parser: async () => (await import('./host/apparmor.js')).apparmorParserMain,
  exportfs: async () => (await import('./host/exportfs.js')).exportfsMain,
  'nvidia-smi': async () => {
    const spec = './nvidia/main.js';
    const mod = (await import(spec)) as { main(argv: string[]): Promise<number> };
    return (_ctx, argv) => mod.main(argv);
  },
};

async function identify(tool: string, argv: string[]): Promise<CallIdentity> {
  let command = argv.find((a) => !a.startsWith('-')) ?? '';
  let rest = argv.slice(argv.indexOf(command) + 1);
  if (tool === 'pct' || tool === 'qm' || tool === 'pvesm' || tool === 'pveam') {
    const { resolveCmd } = await import('./core/cli-args.js');
    const r = resolveCmd(tool, argv);
    command = r.cmdStr.slice(tool.length + 1);
    rest = r.args;
  }
  const first = rest.find((a) => !a.startsWith('-'));
  const vmid = first !== undefined && /^\d+$/.test(first) ? Number(first) : undefined;
  return { tool, command, vmid };
}

export async function main(tool: string, argv: string[]): Promise<void> {
  const started = Date.now();
  let state: State;
  try {
    state = new State(readEnv());
    await ensureInitialized(state, initFromEnv());
  } catch (err) {
    if (tool === 'nvidia-smi' && err instanceof EmulatorError && err.errCode === 'EMU_NO_STATE') {
      const mod = (await import('./nvidia/main.js' as string)) as { main(argv: string[]): Promise<number> };
      process.exitCode = await mod.main(argv);
      return;
    }
    process.stderr.write(`${tool} (emulator): ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 255;
    return;
  }
  const log = (exitCode: number): void =>
    appendCall(state.callsLog, {
      time: new Date(started).toISOString(),
      tool,
      argv,
      exitCode,
      durationMs: Date.now() - started,
      node: state.node,
      pid: process.pid,
    });
  // A sampling loop (`nvidia-smi -lms N`) normally ends by a signal: record the call before dying.
  const untrap = tool === 'nvidia-smi' ? logOnSignal(log) : () => {};
  let code: number;
  try {
    const call = await identify(tool, argv).catch(() => ({ tool, command: '', vmid: undefined }));
    const plan = await planFaults(state, call, () => log(137));
    const ctx = new Ctx(state, tool, argv, plan);
    const early = plan.startRule ? await applyStartFault(ctx, plan.startRule) : undefined;
    if (early !== undefined) code = early;
    else {
      const load = TOOLS[tool];
      if (!load) throw new EmulatorError('EMU_UNKNOWN_TOOL', `unknown tool '${tool}'`);
      code = await (await load())(ctx, argv);
      if (plan.pendingMidway) await plan.midpoint(ctx);
    }
  } catch (err) {
    process.stderr.write(errorText(err));
    code = 255;
  }
  untrap();
  log(code);
  process.exitCode = code;
}

const SIGNALS: Array<[NodeJS.Signals, number]> = [
  ['SIGTERM', 15],
  ['SIGINT', 2],
  ['SIGHUP', 1],
];

/** Logs `128 + signal` when a signal ends the call, then lets the signal's default action happen. */
function logOnSignal(log: (exitCode: number) => void): () => void {
  const handlers = SIGNALS.map(([sig, num]) => {
    const h = (): void => {
      untrap();
      log(128 + num);
      process.kill(process.pid, sig);
    };
    return [sig, h] as const;
  });
  const untrap = (): void => {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
  };
  for (const [sig, h] of handlers) process.on(sig, h);
  return untrap;
}
