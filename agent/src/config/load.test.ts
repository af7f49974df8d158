import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ExitCode } from '@phoenix/shared';
import { agentConfigSchema, ConfigError, loadConfig, parseConfig } from './index.js';

let dir: string;
let credDir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
  for (const f of ['ca.pem', 'agent.pem', 'agent.key']) writeFileSync(join(dir, f), 'x');
  credDir = join(dir, 'creds');
  mkdirSync(credDir);
  writeFileSync(join(credDir, 'tls.key'), 'x');
  writeFileSync(join(credDir, 'nats.password'), 'x');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const MINIMAL = `
node: pve1
cluster: lab
tls: { ca: ca.pem, cert: agent.pem, key: agent.key }
`;

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(ExitCode.INVALID);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('config - loading', () => {
  it('applies defaults and resolves paths relative to the config file', () => {
    const c = loadConfig(write('a.yaml', MINIMAL), { env: {} });
    expect(c.node).toBe('pve1');
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 7443 });
    expect(c.advertise).toBe('pve1:7443');
    expect(c.tls.key).toBe(join(dir, 'agent.key'));
    expect(c.allowedRoles).toEqual(['coordinator', 'admin']);
    expect(c.tools.paths.pct).toBe('/usr/sbin/pct');
    expect(c.tools.paths.nvidiaSmi).toBe('/usr/bin/nvidia-smi');
    expect(c.telemetry.heartbeatMs).toBe(5000);
    expect(c.shutdownGraceMs).toBe(20_000);
    expect(c.nats).toBeUndefined();
    expect(c.metrics.listen).toEqual({ host: '127.0.0.1', port: 9464 });
  });

  it('takes a tool bin dir, per-tool paths and tool environment', () => {
    const c = loadConfig(
      write(
        'b.yaml',
        `${MINIMAL}
tools:
  binDir: /opt/emu/bin
  paths: { qm: /usr/local/bin/qm }
  env: { PVE_EMU_STATE: /tmp/state }
`,
      ),
      { env: {} },
    );
    expect(c.tools.paths.pct).toBe('/opt/emu/bin/pct');
    expect(c.tools.paths.nvidiaSmi).toBe('/opt/emu/bin/nvidia-smi');
    expect(c.tools.paths.qm).toBe('/usr/local/bin/qm');
    expect(c.tools.env).toEqual({ PVE_EMU_STATE: '/tmp/state' });
  });

  it('rejects unknown fields and bad values, naming the field and the value', () => {
    const issues = issuesOf(() =>
      loadConfig(write('c.yaml', `${MINIMAL}\nlisten: nowhere\nshutdownGraceSecs: 3\ntelemetry: { nodeIntervalSeconds: -1 }\n`), {
        env: {},
      }),
    );
    expect(issues).toContainEqual(expect.stringMatching(/^listen: must be host:port \(got "nowhere"\)/));
    expect(issues).toContainEqual('shutdownGraceSecs: unknown field');
    expect(issues).toContainEqual(expect.stringMatching(/^telemetry\.nodeIntervalSeconds: .*\(got -1\)/));
  });

  it('reports YAML syntax errors with their position', () => {
    const issues = issuesOf(() => loadConfig(write('d.yaml', 'node: [pve1\n'), { env: {} }));
    expect(issues[0]).toMatch(/not valid YAML at line \d+, column \d+/);
  });

  it('reports unreadable secret files without reading them', () => {
    const issues = issuesOf(() => loadConfig(write('e.yaml', MINIMAL.replace('agent.key', 'missing.key')), { env: {} }));
    expect(issues).toEqual([expect.stringMatching(/^tls\.key: file is not readable: ENOENT \(got "missing\.key"/)]);
  });

  it('resolves credential: paths from $CREDENTIALS_DIRECTORY', () => {
    const doc = {
      node: 'pve1',
      cluster: 'lab',
      tls: { ca: join(dir, 'ca.pem'), cert: join(dir, 'agent.pem'), key: 'credential:tls.key' },
      nats: { servers: ['nats://nats1:4222'], auth: { type: 'password', user: 'node-pve1', passwordFile: 'credential:nats.password' } },
    };
    const c = parseConfig(doc, { source: 'test', env: { CREDENTIALS_DIRECTORY: credDir } });
    expect(c.tls.key).toBe(join(credDir, 'tls.key'));
    expect(c.nats?.auth).toEqual({ type: 'password', user: 'node-pve1', passwordFile: join(credDir, 'nats.password') });

    const issues = issuesOf(() => parseConfig(doc, { source: 'test', env: {} }));
    expect(issues[0]).toMatch(/^tls\.key: \$CREDENTIALS_DIRECTORY is not set/);
    const escape = issuesOf(() =>
      parseConfig({ ...doc, tls: { ...doc.tls, key: 'credential:../tls.key' } }, { source: 'test', env: { CREDENTIALS_DIRECTORY: credDir } }),
    );
    expect(escape[0]).toMatch(/^tls\.key: credential names are plain file names/);
  });

  it('applies PHOENIX_AGENT_* overrides over the file, with YAML values', () => {
    const c = loadConfig(write('f.yaml', MINIMAL), {
      env: {
        PHOENIX_AGENT_NODE: 'pve2',
        PHOENIX_AGENT_LISTEN: '127.0.0.1:0',
        PHOENIX_AGENT_NATS__SERVERS: '[nats://127.0.0.1:4222]',
        PHOENIX_AGENT_TELEMETRY__GPU_INTERVAL_SECONDS: '0.5',
        PHOENIX_AGENT_TOOLS__ENV__PVE_EMU_TIME_SCALE: '"0.01"',
        PHOENIX_AGENT_METRICS__LISTEN: 'false',
        PHOENIX_AGENT_CONFIG: '/ignored.yaml',
        OTHER: 'x',
      },
    });
    expect(c.node).toBe('pve2');
    expect(c.listen.port).toBe(0);
    expect(c.nats?.servers).toEqual(['nats://127.0.0.1:4222']);
    expect(c.telemetry.gpuMs).toBe(500);
    expect(c.tools.env['PVE_EMU_TIME_SCALE']).toBe('0.01');
    expect(c.metrics.listen).toBeUndefined();
  });

  it('names the environment variable behind a bad override', () => {
    const issues = issuesOf(() =>
      loadConfig(write('g.yaml', MINIMAL), { env: { PHOENIX_AGENT_LOCK_WAIT_SECOND: '3', PHOENIX_AGENT_CLUSTER: 'Bad Name' } }),
    );
    expect(issues).toContainEqual('lockWaitSecond: unknown field [from PHOENIX_AGENT_LOCK_WAIT_SECOND]');
    expect(issues).toContainEqual(expect.stringMatching(/^cluster: .*\(got "Bad Name"\) \[from PHOENIX_AGENT_CLUSTER\]$/));
  });
});

describe('config - shipped example', () => {
  it('deploy/systemd/agent.example.yaml is a valid configuration', () => {
    const text = readFileSync(new URL('../../../deploy/systemd/agent.example.yaml', import.meta.url), 'utf8');
    const result = agentConfigSchema.safeParse(parseYaml(text));
    expect(result.error?.issues ?? []).toEqual([]);
    expect(result.data).toMatchObject({ node: 'pve1', nats: { auth: { type: 'password', passwordFile: 'credential:nats.password' } } });
  });
});
