import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactLine } from './credentials.js';
import { CliInstaller, InstallerError, parseInstallerLine, type InstallerLine } from './installer.js';

describe('openshift-install console lines', () => {
  it('reads logrus text, the terminal format and bare lines', () => {
    expect(parseInstallerLine('time="2026-12-07T10:00:00Z" level=info msg="Cluster is installed"')).toEqual({ level: 'info', message: 'Cluster is installed' });
    expect(parseInstallerLine('level=fatal msg="failed to fetch Agent Installer ISO: \\"x\\" invalid"')).toEqual({ level: 'fatal', message: 'failed to fetch Agent Installer ISO: "x" invalid' });
    expect(parseInstallerLine('level=warning msg=short')).toEqual({ level: 'warning', message: 'short' });
    expect(parseInstallerLine('level=info msg=Cluster is ready for install')).toEqual({ level: 'info', message: 'Cluster is ready for install' });
    expect(parseInstallerLine('INFO Bootstrap is complete')).toEqual({ level: 'info', message: 'Bootstrap is complete' });
    expect(parseInstallerLine('plain text')).toEqual({ level: 'info', message: 'plain text' });
    expect(parseInstallerLine('   ')).toBeUndefined();
  });

  it('withholds the kubeadmin password line and known secret values', () => {
    const line = 'Login to the console with user: "kubeadmin", and password: "abcde-fghij-klmno-pqrst"';
    const out = redactLine(line, 'sno', []);
    expect(out).not.toContain('abcde');
    expect(out).toContain('phoenix openshift kubeadmin-password sno');
    expect(redactLine('bad pull secret {"auths":{"x":1}} here', 'sno', ['{"auths":{"x":1}}'])).toBe('bad pull secret [redacted] here');
  });
});

describe('CliInstaller', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'installer-test-'));
    // A stand-in binary: prints its arguments as a log line, then exits with $EXIT.
    const bin = join(dir, 'openshift-install');
    await writeFile(bin, `#!${process.execPath}\nconsole.error('level=info msg=' + JSON.stringify(process.argv.slice(2).join(' ')));\nif (process.env.EXIT !== '0') console.error('level=fatal msg="Bootstrap failed to complete"');\nif (process.env.HANG) setInterval(() => {}, 1000); else process.exitCode = Number(process.env.EXIT);\n`);
    await chmod(bin, 0o755);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const run = (env: Record<string, string>, timeoutMs = 20_000) => {
    const lines: InstallerLine[] = [];
    const p = new CliInstaller({ binary: join(dir, 'openshift-install'), env }).waitFor(dir, 'bootstrap-complete', { signal: new AbortController().signal, onLine: (l) => lines.push(l), timeoutMs });
    return { p, lines };
  };

  it('passes the arguments as an array and hands every line over', async () => {
    const { p, lines } = run({ EXIT: '0' });
    await p;
    expect(lines).toEqual([{ level: 'info', message: `agent wait-for bootstrap-complete --dir ${dir} --log-level info` }]);
  });

  it('turns the installer exit codes into typed errors with the stage and the last error line', async () => {
    const { p } = run({ EXIT: '5' });
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InstallerError);
    expect((err as InstallerError).stage).toBe('bootstrap');
    expect((err as InstallerError).message).toContain('Bootstrap failed to complete');
  });

  it('kills a call that runs past its timeout', async () => {
    const { p } = run({ EXIT: '0', HANG: '1' }, 500);
    await expect(p).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});
