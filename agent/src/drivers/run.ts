/**
 * The one place every external tool is started. execa with argument arrays (never a shell), a
 * minimal environment, no stdin unless input is given, a timeout and an AbortSignal that kill the
 * whole process group (PVE tools fork workers; killing only the direct child would leave them
 * running), a capped output buffer, call counting (mutating vs read-only) and a metrics hook.
 * Failures become typed errors through tool-errors.ts.
 */
import { execa, type Options as ExecaOptions } from 'execa';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CancelledError, TimeoutError, type Logger } from '@phoenix/shared';
import { mapSpawnFailure, mapToolFailure } from './tool-errors.js';

export const TOOL_NAMES = ['pct', 'qm', 'pvesh', 'pvesm', 'zfs', 'zpool', 'pveam', 'nvidiaSmi', 'lsblk', 'apparmorParser', 'exportfs'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** Executable file name of each tool. */
export const TOOL_FILES: Readonly<Record<ToolName, string>> = {
  pct: 'pct',
  qm: 'qm',
  pvesh: 'pvesh',
  pvesm: 'pvesm',
  zfs: 'zfs',
  zpool: 'zpool',
  pveam: 'pveam',
  nvidiaSmi: 'nvidia-smi',
  lsblk: 'lsblk',
  apparmorParser: 'apparmor_parser',
  exportfs: 'exportfs',
};

/** What the metrics hook receives for every finished call. */
export interface CommandMetric {
  tool: string;
  subcommand: string;
  mutating: boolean;
  durationMs: number;
  ok: boolean;
}

export interface ExecutorOptions {
  /** Directory holding every tool. @default "/usr/sbin" ("/usr/bin" for nvidia-smi) */
  binDir?: string;
  /** Per-tool absolute paths; win over binDir. */
  toolPaths?: Partial<Record<ToolName, string>>;
  /** PATH given to the tools (they start helpers of their own). @default "/usr/sbin:/usr/bin:/sbin:/bin" */
  path?: string;
  /** Extra environment values for every call (a test double's settings, say). */
  env?: Readonly<Record<string, string>>;
  /** Names copied from this process's environment when set; a trailing `*` matches a prefix (`TOOL_*`). */
  passEnv?: readonly string[];
  /** Upper bound of one call. @default 900_000 */
  timeoutMs?: number;
  /** Output kept per stream; more fails the call. @default 16 MiB */
  maxBufferBytes?: number;
  logger?: Logger;
  onCommand?: (metric: CommandMetric) => void;
}

export interface RunRequest {
  tool: ToolName;
  args: readonly string[];
  /** Name for metrics and logs. @default args[0] */
  subcommand?: string;
  /** Whether the call can change the node. Read-only calls never do. */
  mutating: boolean;
  input?: string | Uint8Array;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Every output line as it arrives (feature scripts, task output). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Return a non-zero exit as a result instead of throwing (exit status is data, e.g. `pct exec`). */
  allowNonZeroExit?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  durationMs: number;
}

export interface CallStats {
  total: number;
  mutating: number;
  readOnly: number;
  /** Mutating calls by "tool subcommand". */
  mutatingByCommand: Record<string, number>;
}

/** Handle of a long-running process (the GPU sampler). */
export interface LongProcess {
  readonly pid: number | undefined;
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  readonly exited: Promise<number | null>;
  kill(): void;
}

const DEFAULT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_TIMEOUT_MS = 900_000;
const DEFAULT_MAX_BUFFER = 16 * 1024 * 1024;

export class CommandExecutor {
  private readonly opts: ExecutorOptions;
  private stats: CallStats = emptyStats();

  constructor(options: ExecutorOptions = {}) {
    this.opts = options;
  }

  /** Absolute path of a tool. */
  toolPath(tool: ToolName): string {
    const explicit = this.opts.toolPaths?.[tool];
    if (explicit) return explicit;
    const dir = this.opts.binDir ?? (tool === 'nvidiaSmi' || tool === 'lsblk' ? '/usr/bin' : '/usr/sbin');
    return join(dir, TOOL_FILES[tool]);
  }

  /** The environment every tool gets: PATH, LC_ALL=C, listed pass-through variables, extras. */
  environment(): Record<string, string> {
    const env: Record<string, string> = { PATH: this.opts.path ?? DEFAULT_PATH, LC_ALL: 'C', LANG: 'C' };
    for (const pattern of this.opts.passEnv ?? []) {
      const prefix = pattern.endsWith('*') ? pattern.slice(0, -1) : undefined;
      for (const [name, value] of Object.entries(process.env)) {
        if (value === undefined) continue;
        if (prefix !== undefined ? name.startsWith(prefix) : name === pattern) env[name] = value;
      }
    }
    Object.assign(env, this.opts.env ?? {});
    return env;
  }

  callStats(): CallStats {
    return { ...this.stats, mutatingByCommand: { ...this.stats.mutatingByCommand } };
  }

  resetStats(): void {
    this.stats = emptyStats();
  }

  /** Counts a change made without a tool (a config file edit) like a mutating call. */
  recordMutation(tool: string, subcommand: string, durationMs: number, ok: boolean): void {
    this.count(tool, subcommand, true, durationMs, ok);
  }

  async run(req: RunRequest): Promise<RunResult> {
    const subcommand = req.subcommand ?? req.args[0] ?? '';
    if (req.signal?.aborted) {
      throw new CancelledError(`${TOOL_FILES[req.tool]} ${subcommand} cancelled before it started`, {
        cause: req.signal.reason,
      });
    }
    const file = this.toolPath(req.tool);
    const timeoutMs = req.timeoutMs ?? this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const started = performance.now();
    let timedOut = false;
    let cancelled = false;

    const onLine = req.onLine;
    const tap = (stream: 'stdout' | 'stderr') =>
      function* (line: unknown) {
        onLine?.(String(line), stream);
        yield line;
      };

    const options: ExecaOptions = {
      extendEnv: false,
      env: this.environment(),
      ...(req.input !== undefined ? { input: req.input } : { stdin: 'ignore' as const }),
      ...(onLine ? { stdout: tap('stdout'), stderr: tap('stderr') } : {}),
      detached: true,
      reject: false,
      stripFinalNewline: true,
      maxBuffer: this.opts.maxBufferBytes ?? DEFAULT_MAX_BUFFER,
      windowsHide: true,
    };
    let child: ReturnType<typeof execa>;
    try {
      child = execa(file, [...req.args], options);
    } catch (err) {
      this.count(TOOL_FILES[req.tool], subcommand, req.mutating, performance.now() - started, false);
      throw mapSpawnFailure(req.tool, subcommand, err);
    }

    const killGroup = () => {
      const pid = child.pid;
      if (pid === undefined) return;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const onAbort = () => {
      cancelled = true;
      killGroup();
    };
    req.signal?.addEventListener('abort', onAbort, { once: true });

    try {
      const result = (await child) as Awaited<ReturnType<typeof execa>> & { failed: boolean; shortMessage?: string; isMaxBuffer?: boolean };
      const durationMs = performance.now() - started;
      const stdout = toText(result.stdout);
      const stderr = toText(result.stderr);
      if (timedOut) {
        this.count(TOOL_FILES[req.tool], subcommand, req.mutating, durationMs, false);
        this.opts.logger?.warn({ tool: req.tool, subcommand, timeoutMs }, 'tool call timed out; process group killed');
        throw new TimeoutError(`${TOOL_FILES[req.tool]} ${subcommand} did not finish within ${timeoutMs} ms`, {
          details: { tool: req.tool, subcommand, timeoutMs },
        });
      }
      if (cancelled) {
        this.count(TOOL_FILES[req.tool], subcommand, req.mutating, durationMs, false);
        throw new CancelledError(`${TOOL_FILES[req.tool]} ${subcommand} cancelled`, { cause: req.signal?.reason });
      }
      if (result.isMaxBuffer || (result.failed && result.exitCode === undefined)) {
        // Spawn failure (missing tool, not executable) or output over maxBuffer.
        this.count(TOOL_FILES[req.tool], subcommand, req.mutating, durationMs, false);
        this.opts.logger?.warn({ tool: req.tool, subcommand, err: result.shortMessage }, 'tool call failed');
        throw mapSpawnFailure(req.tool, subcommand, Object.assign(new ToolExit(result.shortMessage ?? 'failed to run', undefined), {
          code: (result as { code?: string }).code,
          isMaxBuffer: result.isMaxBuffer,
        }));
      }
      const exitCode = result.exitCode ?? -1;
      if (exitCode !== 0 && !req.allowNonZeroExit) {
        this.count(TOOL_FILES[req.tool], subcommand, req.mutating, durationMs, false);
        this.opts.logger?.debug({ tool: req.tool, subcommand, exitCode, err: result.shortMessage }, 'tool call failed');
        throw mapToolFailure({ tool: req.tool, subcommand, args: req.args, exitCode, stdout, stderr }, new ToolExit(result.shortMessage ?? `${subcommand} exited ${exitCode}`, exitCode));
      }
      this.count(TOOL_FILES[req.tool], subcommand, req.mutating, durationMs, exitCode === 0);
      return { stdout, stderr, exitCode, durationMs };
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Starts a long-running process whose stdout is read line by line (the GPU sampler). It runs
   * in its own process group; kill() ends the group.
   */
  spawnLong(
    tool: ToolName,
    args: readonly string[],
    onLine: (line: string, stream: 'stdout' | 'stderr') => void,
  ): LongProcess {
    const child = execa(this.toolPath(tool), [...args], {
      extendEnv: false,
      env: this.environment(),
      stdin: 'ignore',
      detached: true,
      reject: false,
      buffer: false,
      lines: false,
      windowsHide: true,
    });
    const pid = child.pid;
    const split = (stream: 'stdout' | 'stderr') => {
      let rest = '';
      return (chunk: Buffer | string) => {
        rest += chunk.toString();
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, nl).replace(/\r$/, '');
          rest = rest.slice(nl + 1);
          onLine(line, stream);
        }
      };
    };
    child.stdout?.on('data', split('stdout'));
    child.stderr?.on('data', split('stderr'));
    const exited = child.then(
      (r) => (r.exitCode === undefined ? null : r.exitCode),
      () => null,
    );
    return {
      pid,
      exited,
      kill: () => {
        if (pid === undefined) return;
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      },
    };
  }

  private count(tool: string, subcommand: string, mutating: boolean, durationMs: number, ok: boolean): void {
    this.stats.total++;
    if (mutating) {
      this.stats.mutating++;
      const key = `${tool} ${subcommand}`;
      this.stats.mutatingByCommand[key] = (this.stats.mutatingByCommand[key] ?? 0) + 1;
    } else {
      this.stats.readOnly++;
    }
    try {
      this.opts.onCommand?.({ tool, subcommand, mutating, durationMs, ok });
    } catch (err) {
      this.opts.logger?.warn({ err }, 'metrics hook threw');
    }
  }
}

/**
 * The cause attached to typed tool errors: execa's one-line summary only. The execa result itself
 * carries the full output, which must not end up in logs through an error's cause chain.
 */
export class ToolExit extends Error {
  constructor(
    message: string,
    readonly exitCode: number | undefined,
  ) {
    super(message);
    this.name = 'ToolExit';
  }
}

function emptyStats(): CallStats {
  return { total: 0, mutating: 0, readOnly: 0, mutatingByCommand: {} };
}

function toText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.join('\n');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return String(value);
}

/** Copies the defined call options onto a request (exactOptionalPropertyTypes-friendly). */
export function withCallOptions(
  req: RunRequest,
  opts: { signal?: AbortSignal; timeoutMs?: number; onLine?: (line: string, stream: 'stdout' | 'stderr') => void } = {},
  defaultTimeoutMs?: number,
): RunRequest {
  const out: RunRequest = { ...req };
  if (opts.signal) out.signal = opts.signal;
  if (opts.onLine) out.onLine = opts.onLine;
  const t = opts.timeoutMs ?? defaultTimeoutMs;
  if (t !== undefined) out.timeoutMs = t;
  return out;
}
