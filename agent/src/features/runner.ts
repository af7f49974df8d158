/**
 * Runs a library script (feature or application) inside a guest. LXC: the script (library
 * prepended) is pushed with `pct push` and run with `pct exec -- env … bash /tmp/phoenix-…sh`,
 * its output streamed line by line. VM: `qm guest exec --pass-stdin` runs it with bash -s
 * (output arrives when it ends). `::progress <n> <text>` lines become percent events.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandFailedError, InvalidArgumentError } from '@phoenix/shared';
import type { PctDriver, QmDriver } from '../drivers/types.js';

export interface ScriptLine {
  line: string;
  stderr: boolean;
}

export interface RunScriptOptions {
  guestKind: 'lxc' | 'vm';
  vmid: number;
  /** feature or app: part of the remote file name. */
  kind: 'feature' | 'app';
  name: string;
  /** Script body (without the library). */
  body: string;
  env: Readonly<Record<string, string>>;
  args?: readonly string[];
  featuresDir: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  onLine?: (l: ScriptLine) => void;
  onProgress?: (percent: number, message: string) => void;
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const PROGRESS_RE = /^::progress (\d{1,3})(?: (.*))?$/;

let libCache: { dir: string; text: string } | undefined;

async function library(featuresDir: string): Promise<string> {
  if (libCache?.dir === featuresDir) return libCache.text;
  const text = await readFile(join(featuresDir, 'lib', 'phoenix-lib.sh'), 'utf8');
  libCache = { dir: featuresDir, text };
  return text;
}

/** Library + body as one script; the remote copy deletes itself when it ends. */
export async function assembleScript(featuresDir: string, body: string): Promise<string> {
  const lib = await library(featuresDir);
  const withoutShebang = body.replace(/^#![^\n]*\n/, '');
  return [
    '#!/usr/bin/env bash',
    'case "$0" in /tmp/phoenix-*) trap \'rm -f -- "$0"\' EXIT ;; esac',
    lib.trimEnd(),
    '# ---- script ----',
    withoutShebang,
  ].join('\n');
}

export interface Drivers {
  pct: PctDriver;
  qm: QmDriver;
}

export async function runGuestScript(drivers: Drivers, o: RunScriptOptions): Promise<void> {
  for (const k of Object.keys(o.env)) if (!ENV_NAME.test(k)) throw new InvalidArgumentError('env', k, 'not an environment name');
  const script = await assembleScript(o.featuresDir, o.body);
  const envArgs = Object.entries(o.env).map(([k, v]) => `${k}=${v}`);
  const args = [...(o.args ?? [])];
  let lastErr = '';
  const onLine = (line: string, stream: 'stdout' | 'stderr') => {
    const m = PROGRESS_RE.exec(line);
    if (m && stream === 'stdout') {
      o.onProgress?.(Math.min(100, Number(m[1])), (m[2] ?? '').trim());
      return;
    }
    if (stream === 'stderr' && line.trim() !== '') lastErr = line.trim();
    o.onLine?.({ line, stderr: stream === 'stderr' });
  };
  const timeoutMs = o.timeoutMs ?? 60 * 60_000;
  let exitCode: number;
  if (o.guestKind === 'lxc') {
    const remote = `/tmp/phoenix-${o.kind}-${o.name}.sh`;
    const dir = await mkdtemp(join(tmpdir(), 'phoenix-script-'));
    try {
      const local = join(dir, 'script.sh');
      await writeFile(local, script, { mode: 0o600 });
      await drivers.pct.push(o.vmid, local, remote, { perms: '0700' }, o.signal ? { signal: o.signal } : {});
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const res = await drivers.pct.exec(o.vmid, ['env', ...envArgs, `PHOENIX_GUEST_TYPE=lxc`, 'bash', remote, ...args], {
      mutating: true,
      onLine,
      timeoutMs,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    exitCode = res.exitCode;
  } else {
    const res = await drivers.qm.guestExec(o.vmid, ['env', ...envArgs, 'PHOENIX_GUEST_TYPE=vm', 'bash', '-s', '--', ...args], {
      mutating: true,
      input: script,
      onLine,
      timeoutSeconds: Math.ceil(timeoutMs / 1000),
      timeoutMs: timeoutMs + 60_000,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    exitCode = res.exitCode;
  }
  if (exitCode !== 0) {
    throw new CommandFailedError(`${o.kind} ${o.name} failed in guest ${o.vmid} (exit ${exitCode})${lastErr ? `: ${lastErr}` : ''}`, {
      details: { vmid: o.vmid, kind: o.kind, name: o.name, exitCode },
    });
  }
}
