import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CancelledError, CommandFailedError, LockedError, NodeDownError, TimeoutError } from '@phoenix/shared';
import { CommandExecutor, type CommandMetric } from './run.js';

let dir: string;

function tool(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/bash\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** True while the process exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Waits for the process to be gone (a killed process is reaped asynchronously). */
const gone = (pid: number) => expect.poll(() => alive(pid), { timeout: 15_000 }).toBe(false);

/** The pid a fake tool wrote once it has started its grandchild. */
const pidIn = (file: string) =>
  vi.waitFor(
    () => {
      const text = readFileSync(file, 'utf8');
      expect(text).toMatch(/^\d+\n$/);
      return Number(text);
    },
    { timeout: 15_000 },
  );

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'phoenix-run-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CommandExecutor', () => {
  it('gives tools a minimal environment: PATH, LC_ALL=C, listed pass-through variables and extras only', async () => {
    tool('pct', 'env | sort');
    process.env['PVE_EMU_STATE'] = '/tmp/state-x';
    process.env['PHOENIX_SECRET_TEST'] = 'must-not-leak';
    const ex = new CommandExecutor({ binDir: dir, passEnv: ['PVE_EMU_*'], env: { EXTRA: '1' }, path: '/usr/bin:/bin' });
    const res = await ex.run({ tool: 'pct', args: ['list'], mutating: false });
    const vars = Object.fromEntries(res.stdout.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(vars['PATH']).toBe('/usr/bin:/bin');
    expect(vars['LC_ALL']).toBe('C');
    expect(vars['PVE_EMU_STATE']).toBe('/tmp/state-x');
    expect(vars['EXTRA']).toBe('1');
    expect(vars['PHOENIX_SECRET_TEST']).toBeUndefined();
    expect(vars['HOME']).toBeUndefined();
    delete process.env['PHOENIX_SECRET_TEST'];
  });

  it('passes arguments as an array: shell metacharacters arrive verbatim', async () => {
    tool('qm', 'for a in "$@"; do echo "[$a]"; done');
    const ex = new CommandExecutor({ binDir: dir });
    const res = await ex.run({ tool: 'qm', args: ['set', '100', '--description', 'a; rm -rf / $(id) `x`'], mutating: true });
    expect(res.stdout.split('\n')).toEqual(['[set]', '[100]', '[--description]', '[a; rm -rf / $(id) `x`]']);
  });

  it('kills the whole process group on timeout, grandchildren included', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    tool('zfs', `sleep 30 & echo $! > ${pidFile}; wait`);
    const ex = new CommandExecutor({ binDir: dir });
    const t0 = Date.now();
    // Long enough for bash to start the grandchild on a loaded machine, short against the 30 s sleep.
    await expect(ex.run({ tool: 'zfs', args: ['list'], mutating: false, timeoutMs: 1_000 })).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - t0).toBeLessThan(5000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await gone(pid);
  });

  it('cancels through an AbortSignal and kills the group', async () => {
    const pidFile = join(dir, 'grandchild2.pid');
    tool('pvesm', `sleep 30 & echo $! > ${pidFile}; wait`);
    const ex = new CommandExecutor({ binDir: dir });
    const ac = new AbortController();
    const p = ex.run({ tool: 'pvesm', args: ['status'], mutating: false, signal: ac.signal });
    const pid = await pidIn(pidFile);
    ac.abort(new Error('client went away'));
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    await gone(pid);
  });

  it('refuses to start when the signal is already aborted', async () => {
    tool('pveam', 'echo ran');
    const ex = new CommandExecutor({ binDir: dir });
    const ac = new AbortController();
    ac.abort();
    await expect(ex.run({ tool: 'pveam', args: ['list', 'local'], mutating: false, signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
    expect(ex.callStats().total).toBe(0);
  });

  it('maps a missing tool to NodeDownError', async () => {
    const ex = new CommandExecutor({ toolPaths: { pvesh: join(dir, 'does-not-exist') } });
    await expect(ex.run({ tool: 'pvesh', args: ['get', '/version'], mutating: false })).rejects.toBeInstanceOf(NodeDownError);
  });

  it('maps failures by the real error text and keeps the cause', async () => {
    tool('pct', 'echo "CT is locked (create)" >&2; exit 255');
    const ex = new CommandExecutor({ binDir: dir });
    const err = await ex.run({ tool: 'pct', args: ['start', '100'], mutating: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect((err as LockedError).cause).toBeDefined();
    expect((err as LockedError).details['lock']).toBe('create');
    expect((err as LockedError).details['exitCode']).toBe(255);
  });

  it('fails with CommandFailedError when output exceeds maxBuffer', async () => {
    tool('zpool', 'head -c 200000 /dev/zero | tr "\\0" x');
    const ex = new CommandExecutor({ binDir: dir, maxBufferBytes: 1000 });
    await expect(ex.run({ tool: 'zpool', args: ['list'], mutating: false })).rejects.toBeInstanceOf(CommandFailedError);
  });

  it('streams lines, returns non-zero exits as data when asked, counts calls and reports metrics', async () => {
    tool('pct', 'echo one; echo two >&2; echo three; exit 3');
    const metrics: CommandMetric[] = [];
    const ex = new CommandExecutor({ binDir: dir, onCommand: (m) => metrics.push(m) });
    const lines: string[] = [];
    const res = await ex.run({
      tool: 'pct',
      args: ['exec', '100', '--', 'x'],
      mutating: true,
      allowNonZeroExit: true,
      onLine: (l, s) => lines.push(`${s}:${l}`),
    });
    expect(res.exitCode).toBe(3);
    expect(res.stdout).toBe('one\nthree');
    expect(lines).toEqual(expect.arrayContaining(['stdout:one', 'stderr:two', 'stdout:three']));
    tool('qm', 'echo "status: stopped"');
    await ex.run({ tool: 'qm', args: ['status', '100'], mutating: false });
    const stats = ex.callStats();
    expect(stats).toMatchObject({ total: 2, mutating: 1, readOnly: 1, mutatingByCommand: { 'pct exec': 1 } });
    expect(metrics.map((m) => [m.tool, m.subcommand, m.mutating, m.ok])).toEqual([
      ['pct', 'exec', true, false],
      ['qm', 'status', false, true],
    ]);
    expect(metrics.every((m) => m.durationMs >= 0)).toBe(true);
  });

  it('feeds input on stdin only when given; otherwise stdin is closed', async () => {
    tool('pvesh', 'cat');
    const ex = new CommandExecutor({ binDir: dir });
    expect((await ex.run({ tool: 'pvesh', args: ['get'], mutating: false, input: 'hello' })).stdout).toBe('hello');
    expect((await ex.run({ tool: 'pvesh', args: ['get'], mutating: false, timeoutMs: 5000 })).stdout).toBe('');
  });
});
