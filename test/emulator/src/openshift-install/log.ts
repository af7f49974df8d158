import fs from 'node:fs';
import path from 'node:path';

/**
 * The installer's logging (logrus): the console hook on stderr at --log-level, in the
 * TextFormatter layout (`level=info msg=...` when stderr is not a terminal, `INFO ...` when it is,
 * messages split at newlines), and the `.openshift_install.log` hook at every level, with
 * timestamps and quoted messages.
 */
export type Level = 'debug' | 'info' | 'warning' | 'error' | 'fatal';

const RANK: Record<Level, number> = { fatal: 1, error: 2, warning: 3, info: 4, debug: 5 };
const COLOR: Record<Level, number> = { debug: 37, info: 36, warning: 33, error: 31, fatal: 31 };

/** Exit code of logrus.Fatal. */
export const FATAL_EXIT = 1;

export class FatalExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'FatalExit';
  }
}

export function parseLevel(raw: string): Level | undefined {
  if (raw === 'warn') return 'warning';
  return raw in RANK ? (raw as Level) : undefined;
}

/** logrus quotes a value unless every character is one of [A-Za-z0-9-._/@^+]. */
function quoteIfNeeded(v: string): string {
  return v !== '' && /^[A-Za-z0-9\-._/@^+]+$/.test(v) ? v : JSON.stringify(v);
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class Logger {
  private logFile: string | undefined;

  constructor(
    private readonly level: Level,
    private readonly tty = process.stderr.isTTY === true,
  ) {}

  /** SetupFileHook: opens (appends to) `<dir>/.openshift_install.log`. */
  attachFile(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    this.logFile = path.join(dir, '.openshift_install.log');
    this.debug('OpenShift Installer 4.18.0');
    this.debug('Built from commit 0000000000000000000000000000000000000000');
  }

  debug(msg: string): void {
    this.log('debug', msg);
  }
  info(msg: string): void {
    this.log('info', msg);
  }
  warn(msg: string): void {
    this.log('warning', msg);
  }
  error(msg: string): void {
    this.log('error', msg);
  }

  /** logrus.Fatal: logs, then the process exits 1. */
  fatal(msg: string): never {
    this.log('fatal', msg);
    throw new FatalExit(FATAL_EXIT);
  }

  /** logrus.Exit(code). */
  exit(code: number): never {
    throw new FatalExit(code);
  }

  private log(level: Level, msg: string): void {
    if (this.logFile) fs.appendFileSync(this.logFile, `time="${rfc3339(new Date())}" level=${level} msg=${quoteIfNeeded(msg)}\n`);
    if (RANK[level] > RANK[this.level]) return;
    let out = '';
    for (const line of msg.split('\n')) {
      out += this.tty ? `\x1b[${COLOR[level]}m${level.toUpperCase()}\x1b[0m ${line.padEnd(44)} \n` : `level=${level} msg=${line}\n`;
    }
    process.stderr.write(out);
  }
}
