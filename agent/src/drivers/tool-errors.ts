/**
 * Maps a failed tool call to a typed error by the tools' real error text (see
 * docs/reference/proxmox-cli.md): the message of a PVE `die`, a 400 parameter exception with its
 * per-parameter lines, OpenZFS `cannot open` errors, nvidia-smi's messages. Every typed error
 * keeps the original failure as `cause` and the tool, subcommand and exit code as details.
 */
import {
  AlreadyExistsError,
  CommandFailedError,
  FailedPreconditionError,
  InvalidArgumentError,
  LockedError,
  NodeDownError,
  NotFoundError,
  TimeoutError,
  UnavailableError,
  type PhoenixError,
} from '@phoenix/shared';

export interface ToolFailure {
  tool: string;
  subcommand: string;
  args: readonly string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** One `<param>: <message>` line of a `400 Parameter verification failed.` error. */
export interface ParamError {
  param: string;
  message: string;
}

const MAX_DETAIL_CHARS = 2000;

/** Tool names as people type them. */
function display(tool: string): string {
  return tool === 'nvidiaSmi' ? 'nvidia-smi' : tool;
}

/** The error text of a failure: stderr, or stdout when a tool printed its error there. */
export function failureText(f: Pick<ToolFailure, 'stderr' | 'stdout'>): string {
  const err = f.stderr.trim();
  return err.length > 0 ? err : f.stdout.trim();
}

/** Parses the per-parameter lines of a PVE 400 error (the usage line and blank lines are skipped). */
export function parseParamErrors(text: string): ParamError[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^400 Parameter verification failed\./.test(l));
  if (start < 0) return [];
  const out: ParamError[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^([A-Za-z0-9_.\-[\]]+): (.*)$/.exec(line);
    if (m && m[1] !== undefined && m[2] !== undefined) out.push({ param: m[1], message: m[2] });
  }
  return out;
}

/** The value given for `--param` (or `-param`) in an argument list, for error messages. */
function argValue(args: readonly string[], param: string): string | undefined {
  for (let i = 0; i < args.length - 1; i++) {
    if (args[i] === `--${param}` || args[i] === `-${param}`) return args[i + 1];
  }
  return undefined;
}

const NODE_DOWN_PATTERNS: RegExp[] = [
  /ipcc_send_rec\[\d+\] failed/,
  /Unable to load access control list/,
  /cluster not ready - no quorum/,
  /Connection refused/i,
  /Can't connect to/,
  /No route to host/i,
  /Network is unreachable/i,
  /node '[^']+' seems to be offline/,
  /pve-cluster\.service.*(not running|inactive)/,
];

export function mapToolFailure(f: ToolFailure, cause: unknown): PhoenixError {
  const text = failureText(f);
  const firstLine = text.split('\n').find((l) => l.trim() !== '') ?? `exit code ${f.exitCode}`;
  const details: Record<string, unknown> = {
    tool: display(f.tool),
    subcommand: f.subcommand,
    exitCode: f.exitCode,
    stderr: text.slice(0, MAX_DETAIL_CHARS),
  };
  const opts = { cause, details };
  const what = `${display(f.tool)} ${f.subcommand}`;

  // Parameter exceptions first: their per-parameter text may contain any other phrase.
  if (/^400 Parameter verification failed\./m.test(text)) {
    const params = parseParamErrors(text);
    details['params'] = params;
    const first = params[0];
    if (first && /already exists/.test(first.message)) return new AlreadyExistsError(`${what}: ${first.param}: ${first.message}`, opts);
    if (first && /no such template/.test(first.message)) return new NotFoundError(`${what}: ${first.param}: ${first.message}`, opts);
    const field = first?.param ?? 'arguments';
    const reason = params.length > 0 ? params.map((p) => `${p.param}: ${p.message}`).join('; ') : firstLine;
    return new InvalidArgumentError(field, argValue(f.args, field) ?? null, `${what} rejected the parameters: ${reason}`, opts);
  }
  const m400 = /^400 (.*)$/m.exec(text);
  if (m400) {
    return new InvalidArgumentError('arguments', f.args.join(' '), `${what}: ${m400[1]}`, opts);
  }
  if (/^ERROR: unknown command '/m.test(text) || /^Unknown option: /m.test(text)) {
    return new InvalidArgumentError('arguments', f.args.join(' '), `${what}: ${firstLine}`, opts);
  }

  if (NODE_DOWN_PATTERNS.some((re) => re.test(text))) {
    return new NodeDownError(`${what}: node unavailable: ${firstLine}`, opts);
  }

  // Locks: the config `lock:` property and the flock wait.
  let m = /(?:CT|VM) is locked \(([\w-]+)\)/.exec(text);
  if (m) {
    details['lock'] = m[1];
    return new LockedError(`${what}: ${m[0]}`, opts);
  }
  m = /can't lock file '([^']+)' - got timeout/.exec(text);
  if (m) {
    details['lockFile'] = m[1];
    return new LockedError(`${what}: ${m[0]}`, opts);
  }
  if (/Failed to obtain guest migration lock/.test(text)) return new LockedError(`${what}: ${firstLine}`, opts);

  // Missing things.
  m = /Configuration file '([^']+)' does not exist/.exec(text);
  if (m) return new NotFoundError(`${what}: ${m[0]}`, opts);
  m = /unable to find configuration file for VM (\d+)/.exec(text);
  if (m) return new NotFoundError(`${what}: ${m[0]}`, opts);
  m = /storage '([^']+)' does not exist/.exec(text);
  if (m) return new NotFoundError(`${what}: ${m[0]}`, opts);
  m = /snapshot '([^']+)' does not exist/.exec(text);
  if (m) return new NotFoundError(`${what}: ${m[0]}`, opts);
  m = /cannot open '([^']+)': (dataset does not exist|no such pool)/.exec(text);
  if (m) return new NotFoundError(`${what}: ${m[0]}`, opts);
  if (/no such pool|dataset does not exist/.test(text)) return new NotFoundError(`${what}: ${firstLine}`, opts);
  if (/no such template/.test(text)) return new NotFoundError(`${what}: ${firstLine}`, opts);
  if (/^No devices were found/m.test(text)) return new NotFoundError(`${what}: ${firstLine}`, opts);
  if (/No 'get' handler defined for|No '\w+' handler defined for/.test(text)) return new NotFoundError(`${what}: ${firstLine}`, opts);

  // Existing things.
  m = /(?:CT|VM) (\d+) already exists on node/.exec(text);
  if (m) return new AlreadyExistsError(`${what}: ${firstLine}`, opts);
  if (/config file already exists/.test(text)) return new AlreadyExistsError(`${what}: ${firstLine}`, opts);
  m = /snapshot name '([^']+)' already used/.exec(text);
  if (m) return new AlreadyExistsError(`${what}: ${m[0]}`, opts);
  if (/(dataset|pool) already exists/.test(text)) return new AlreadyExistsError(`${what}: ${firstLine}`, opts);

  // Storage not usable right now.
  if (/storage '[^']+' is (disabled|not online)|is not available on node/.test(text)) {
    return new UnavailableError(`${what}: ${firstLine}`, opts);
  }
  if (/QEMU guest agent is not running|guest agent is not running|got timeout from agent/i.test(text)) {
    return new UnavailableError(`${what}: ${firstLine}`, opts);
  }
  if (/No QEMU guest agent configured/.test(text)) return new FailedPreconditionError(`${what}: ${firstLine}`, opts);
  if (/NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/.test(text)) {
    return new UnavailableError(`${what}: ${firstLine}`, opts);
  }
  if (/is not a valid field to query/.test(text)) {
    return new InvalidArgumentError('query', f.args.join(' '), `${what}: ${firstLine}`, opts);
  }

  if (/got timeout|timeout waiting|timed out/i.test(text)) return new TimeoutError(`${what}: ${firstLine}`, opts);

  // State preconditions PVE checks (running, template, protection, linked clones ...).
  if (
    /already running|not running|is running|you can't|can't remove|protection mode enabled|is still in use by linked clone|contains snapshots|feature is not available|not most recent snapshot|not supported|not allowed for linked clones|unable to rollback to incomplete snapshot/.test(
      text,
    )
  ) {
    return new FailedPreconditionError(`${what}: ${firstLine}`, opts);
  }

  return new CommandFailedError(`${what} failed (exit ${f.exitCode}): ${firstLine}`, opts);
}

/** A tool that could not be started (missing, not executable) or whose output overflowed. */
export function mapSpawnFailure(tool: string, subcommand: string, err: unknown): PhoenixError {
  const e = err as { code?: string; isMaxBuffer?: boolean; shortMessage?: string; message?: string; signal?: string };
  const what = `${display(tool)} ${subcommand}`;
  const details = { tool: display(tool), subcommand, code: e.code, signal: e.signal };
  const causeCode = e.code ?? (e as { cause?: { code?: string } }).cause?.code;
  if (causeCode === 'ENOENT' || causeCode === 'EACCES' || causeCode === 'ENOTDIR') {
    return new NodeDownError(`${what}: tool not available (${causeCode}); is this a Proxmox node?`, {
      cause: err,
      details,
    });
  }
  if (e.isMaxBuffer) {
    return new CommandFailedError(`${what}: output exceeded the buffer limit`, { cause: err, details });
  }
  return new CommandFailedError(`${what} failed: ${e.shortMessage ?? e.message ?? String(err)}`, {
    cause: err,
    details,
  });
}
