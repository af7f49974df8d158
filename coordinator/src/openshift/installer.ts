/**
 * The `openshift-install` binary behind an interface: `agent create image` and `agent wait-for
 * bootstrap-complete|install-complete` in an install directory. Argument arrays only, its own
 * process group killed on timeout or cancel, every console line handed over as it arrives. Exit
 * codes become typed errors the way the installer defines them (cmd/openshift-install: 3 install
 * config, 4 infrastructure, 5 bootstrap, 6 install; anything else fatal).
 */
import { execa } from 'execa';
import { CancelledError, CommandFailedError, FailedPreconditionError, TimeoutError } from '@phoenix/shared';

export type WaitTarget = 'bootstrap-complete' | 'install-complete';

/** One console line: the installer's level and message (unquoted). */
export interface InstallerLine {
  readonly level: 'debug' | 'info' | 'warning' | 'error' | 'fatal';
  readonly message: string;
}

export interface InstallerCallOptions {
  readonly signal: AbortSignal;
  readonly onLine: (line: InstallerLine) => void;
  /** Upper bound of the call. */
  readonly timeoutMs: number;
}

export interface OpenShiftInstaller {
  /** Consumes install-config.yaml and agent-config.yaml in `dir`, writes agent.x86_64.iso and auth/. */
  createImage(dir: string, o: InstallerCallOptions): Promise<void>;
  waitFor(dir: string, target: WaitTarget, o: InstallerCallOptions): Promise<void>;
}

/** The installer's own exit codes (cmd/openshift-install/create.go). */
export const INSTALLER_EXIT = { installConfig: 3, infrastructure: 4, bootstrap: 5, install: 6 } as const;

/** The installer failed: which stage and its last error line. */
export class InstallerError extends CommandFailedError {
  constructor(
    readonly stage: 'install-config' | 'infrastructure' | 'bootstrap' | 'install' | 'fatal',
    readonly installerExit: number,
    message: string,
  ) {
    super(message, { details: { stage, installerExit } });
  }
}

const LEVELS: Record<string, InstallerLine['level']> = {
  debug: 'debug', info: 'info', warning: 'warning', warn: 'warning', error: 'error', fatal: 'fatal',
};

/**
 * Parses a console line in any of the installer's formats: its console when stderr is not a
 * terminal (`level=info msg=Cluster is installed`, unquoted), its log file (`time="…"
 * level=info msg="…"`, quoted) or the terminal's `INFO message`. Anything else is an info line as printed.
 */
export function parseInstallerLine(raw: string): InstallerLine | undefined {
  const line = raw.trimEnd();
  if (line === '') return undefined;
  const quoted = /(?:^|\s)level=(\w+)\s+msg=("(?:[^"\\]|\\.)*")/.exec(line);
  if (quoted) return { level: LEVELS[quoted[1]!.toLowerCase()] ?? 'info', message: JSON.parse(quoted[2]!) as string };
  const bare = /(?:^|\s)level=(\w+)\s+msg=(.*)$/.exec(line);
  if (bare) return { level: LEVELS[bare[1]!.toLowerCase()] ?? 'info', message: bare[2]! };
  const tty = /^(DEBUG|INFO|WARNING|WARN|ERROR|FATAL)\s+(.*)$/.exec(line);
  if (tty) return { level: LEVELS[tty[1]!.toLowerCase()] ?? 'info', message: tty[2]! };
  return { level: 'info', message: line };
}

function stageOf(exitCode: number): InstallerError['stage'] {
  switch (exitCode) {
    case INSTALLER_EXIT.installConfig:
      return 'install-config';
    case INSTALLER_EXIT.infrastructure:
      return 'infrastructure';
    case INSTALLER_EXIT.bootstrap:
      return 'bootstrap';
    case INSTALLER_EXIT.install:
      return 'install';
    default:
      return 'fatal';
  }
}

export interface CliInstallerOptions {
  /** Path of openshift-install. */
  readonly binary: string;
  /** Environment of every call (PATH, proxies, the emulator's settings in tests). */
  readonly env: Readonly<Record<string, string>>;
}

export class CliInstaller implements OpenShiftInstaller {
  constructor(private readonly o: CliInstallerOptions) {}

  createImage(dir: string, o: InstallerCallOptions): Promise<void> {
    return this.#run(['agent', 'create', 'image', '--dir', dir, '--log-level', 'info'], 'agent create image', o);
  }

  waitFor(dir: string, target: WaitTarget, o: InstallerCallOptions): Promise<void> {
    return this.#run(['agent', 'wait-for', target, '--dir', dir, '--log-level', 'info'], `agent wait-for ${target}`, o);
  }

  async #run(args: string[], what: string, o: InstallerCallOptions): Promise<void> {
    if (o.signal.aborted) throw new CancelledError(`openshift-install ${what} cancelled before it started`, { cause: o.signal.reason });
    let lastError = '';
    // A transform that keeps nothing: every line is handed over, none is buffered.
    // eslint-disable-next-line require-yield
    const tap = function* (line: unknown) {
      const parsed = parseInstallerLine(String(line));
      if (parsed) {
        if (parsed.level === 'error' || parsed.level === 'fatal') lastError = parsed.message;
        o.onLine(parsed);
      }
    };
    let child;
    try {
      child = execa(this.o.binary, args, {
        extendEnv: false,
        env: { ...this.o.env },
        stdin: 'ignore',
        stdout: tap,
        stderr: tap,
        detached: true,
        reject: false,
        buffer: false,
      });
    } catch (err) {
      throw new FailedPreconditionError(`cannot start ${this.o.binary}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    let timedOut = false;
    const kill = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, o.timeoutMs);
    o.signal.addEventListener('abort', kill, { once: true });
    try {
      const r = (await child) as unknown as { exitCode?: number; code?: string };
      if (timedOut) throw new TimeoutError(`openshift-install ${what} did not finish within ${Math.round(o.timeoutMs / 1000)} s`);
      if (o.signal.aborted) throw new CancelledError(`openshift-install ${what} cancelled`, { cause: o.signal.reason });
      if (r.exitCode === undefined) throw new FailedPreconditionError(`cannot run ${this.o.binary} (${r.code ?? 'spawn failed'})`);
      if (r.exitCode !== 0) {
        throw new InstallerError(stageOf(r.exitCode), r.exitCode, `openshift-install ${what} failed (exit ${r.exitCode}): ${lastError || 'no error printed'}`);
      }
    } finally {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', kill);
    }
  }
}
