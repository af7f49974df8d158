import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { certsMain } from './certs-cli.js';

const run = promisify(execFile);

describe('phoenix-certs', () => {
  it('makes a CA and a node certificate carrying the role, name and hosts, without printing keys', async () => {
    const base = await mkdtemp(join(tmpdir(), 'phoenix-certs-'));
    const dir = join(base, 'tls');
    const out: string[] = [];
    onTestFinished(() => rm(base, { recursive: true, force: true }));
    expect(await certsMain(['ca', '--dir', dir], (l) => out.push(l))).toBe(0);
    expect(await certsMain(['issue', '--dir', dir, '--role', 'agent', '--name', 'pve1', '--host', 'pve1', '--host', '10.0.0.11'], (l) => out.push(l))).toBe(0);
    expect(out).toEqual([join(dir, 'ca.pem'), `ca   ${join(dir, 'ca.pem')}`, `cert ${join(dir, 'pve1.pem')}`, `key  ${join(dir, 'pve1.key')}`]);
    expect(out.join('\n')).not.toMatch(/PRIVATE KEY/);
    expect((await stat(join(dir, 'pve1.key'))).mode & 0o777).toBe(0o600);
    const { stdout } = await run('openssl', ['x509', '-in', join(dir, 'pve1.pem'), '-noout', '-subject', '-ext', 'subjectAltName']);
    expect(stdout).toMatch(/OU ?= ?agent/);
    expect(stdout).toMatch(/CN ?= ?pve1/);
    expect(stdout).toMatch(/DNS:pve1, IP Address:10\.0\.0\.11/);
    await run('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'pve1.pem')]);
  });

  it('rejects bad usage with exit 2', async () => {
    expect(await certsMain(['issue', '--dir', '/nonexistent', '--role', 'root', '--name', 'x'], () => undefined)).toBe(2);
    expect(await certsMain(['issue', '--dir', '/tmp', '--role', 'agent', '--name', '../evil'], () => undefined)).toBe(2);
    expect(await certsMain(['frobnicate', '--dir', '/tmp'], () => undefined)).toBe(2);
  });
});
