import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, exitCodeOf, HEARTBEAT_INTERVAL_SECONDS } from '@phoenix/shared';
import { COORDINATOR_DEFAULTS, loadCoordinatorConfig, parseCoordinatorConfig } from './config.js';

let dir: string;
let credDir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'coordinator-config-'));
  for (const f of ['ca.pem', 'coordinator.pem']) writeFileSync(join(dir, f), 'x');
  credDir = join(dir, 'creds');
  mkdirSync(credDir);
  for (const f of ['tls.key', 'nats.password']) writeFileSync(join(credDir, f), 'x');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const document = (extra: Record<string, unknown> = {}) => ({
  id: 'coord-a',
  context: {
    cluster: 'lab',
    nats: { url: 'nats://127.0.0.1:4222', user: 'coordinator', passwordFile: 'credential:nats.password' },
    tls: { ca: 'ca.pem', cert: 'coordinator.pem', key: 'credential:tls.key' },
  },
  ...extra,
});

describe('coordinator config', () => {
  it('fills every default from one place and compiles seconds to milliseconds', () => {
    const c = parseCoordinatorConfig(document(), { source: 'c.yaml', baseDir: dir, env: { CREDENTIALS_DIRECTORY: credDir } });
    expect(c.leaseTtlMs).toBe(COORDINATOR_DEFAULTS.leaseTtlSeconds * 1000);
    expect(c.heartbeatIntervalMs).toBe(HEARTBEAT_INTERVAL_SECONDS * 1000);
    expect(c.requestRetentionMs).toBe(COORDINATOR_DEFAULTS.requestRetentionHours * 3_600_000);
    expect(c.perNodeConcurrency).toBe(COORDINATOR_DEFAULTS.perNodeConcurrency);
    expect(c.metricsListen).toBeUndefined();
  });

  it('resolves credential: paths in $CREDENTIALS_DIRECTORY and others relative to the config file', () => {
    const c = parseCoordinatorConfig(document({ metricsListen: '[::1]:9465', leaseTtlSeconds: 2.5 }), { source: 'c.yaml', baseDir: dir, env: { CREDENTIALS_DIRECTORY: credDir } });
    expect(c.context.nats.passwordFile).toBe(join(credDir, 'nats.password'));
    expect(c.context.tls).toEqual({ ca: join(dir, 'ca.pem'), cert: join(dir, 'coordinator.pem'), key: join(credDir, 'tls.key') });
    expect(c.metricsListen).toEqual({ host: '::1', port: 9465 });
    expect(c.leaseTtlMs).toBe(2500);
  });

  it('refuses with exit 2, naming the field, unknown fields, unreadable files and a missing credentials directory', () => {
    const fail = (doc: unknown, env: NodeJS.ProcessEnv = { CREDENTIALS_DIRECTORY: credDir }): Error => {
      try {
        parseCoordinatorConfig(doc, { source: 'c.yaml', baseDir: dir, env });
      } catch (err) {
        expect(exitCodeOf(err)).toBe(ExitCode.INVALID);
        return err as Error;
      }
      throw new Error('expected the config to be refused');
    };
    expect(fail(document({ leaseTtlMs: 4000 })).message).toMatch(/leaseTtlMs/);
    expect(fail(document({ heartbeatIntervalSeconds: 0 })).message).toMatch(/heartbeatIntervalSeconds/);
    const missing = document();
    missing.context.tls.ca = 'nope.pem';
    expect(fail(missing).message).toMatch(/context\.tls\.ca: file is not readable: ENOENT/);
    expect(fail(document(), {}).message).toMatch(/context\.nats\.passwordFile: \$CREDENTIALS_DIRECTORY is not set/);
  });

  it('loads the example config of the systemd unit', async () => {
    const example = new URL('../../../deploy/systemd/coordinator.example.yaml', import.meta.url);
    const doc = parse(readFileSync(example, 'utf8')) as { context: { tls: Record<string, string> } };
    // The example names /etc paths; put its files here instead.
    doc.context.tls = { ca: 'ca.pem', cert: 'coordinator.pem', key: 'credential:tls.key' };
    const file = join(dir, 'coordinator.yaml');
    writeFileSync(file, JSON.stringify(doc));
    const c = await loadCoordinatorConfig(file, { CREDENTIALS_DIRECTORY: credDir });
    expect(c.id).toBe('coord-a');
    expect(c.metricsListen).toEqual({ host: '127.0.0.1', port: 9465 });
  });
});
