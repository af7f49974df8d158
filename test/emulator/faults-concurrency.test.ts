import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addFault, clearFaults, mutatingCalls, readCalls, readGuestConfig, setFaults, setTimeScale } from './src/index.js';
import type { EmulatedNodes } from '../harness/index.js';
import { TEMPLATE_VOLID, createCt, oneNode, type TestNode } from './emu-helpers.js';

// Injected faults, PVE's file locks and concurrent invocations.
let node: TestNode;
let handle: EmulatedNodes;

beforeAll(async () => {
  ({ node, handle } = await oneNode({ timeScale: 0.02 }));
  await createCt(node, 100, ['--storage', 'local-zfs']);
});
afterAll(async () => handle.teardown());
const create = (vmid: number): string[] => ['create', String(vmid), TEMPLATE_VOLID, '--storage', 'local-zfs'];

describe('file locks', () => {
  it('waits for the config lock, gives up after 10 s (scaled), and frees it when the holder dies', async () => {
    await setFaults(node.stateDir, [{ tool: 'pct', command: 'create', kind: 'hang', at: 'midway' }]);
    const hung = node.spawn('pct', create(200));
    await expect.poll(() => readGuestConfig(node.stateDir, 200)?.props['lock'], { timeout: 5000, interval: 50 }).toBe('create');
    await new Promise((r) => setTimeout(r, 300));
    const blocked = await node.run('pct', ['set', '200', '--cores', '2']);
    expect(blocked).toMatchObject({ code: 255, stdout: '', stderr: "trying to acquire lock...\ncan't lock file '/run/lock/lxc/pve-config-200.lock' - got timeout\n" });
    hung.kill('SIGKILL');
    await hung;
    await clearFaults(node.stateDir);
    // The holder is gone: no waiting any more, but the persistent `lock: create` stays behind.
    expect(await node.run('pct', ['set', '200', '--cores', '2'])).toMatchObject({ code: 255, stderr: 'CT is locked (create)\n' });
    expect((await node.run('pct', ['list'])).stdout).toMatch(/^200 +stopped +create +CT200 +$/m);
    expect(await node.run('pct', ['unlock', '200'])).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('config locks during long operations', () => {
  it('holds `disk` on the clone source and `create` on the target for the whole copy', async () => {
    await setFaults(node.stateDir, [{ tool: 'pct', command: 'clone', kind: 'hang', at: 'midway' }]);
    const hung = node.spawn('pct', ['clone', '100', '330']);
    await expect.poll(() => readGuestConfig(node.stateDir, 330)?.props['lock'], { timeout: 5000, interval: 50 }).toBe('create');
    expect(readGuestConfig(node.stateDir, 100)?.props['lock']).toBe('disk');
    expect(await node.run('pct', ['start', '100'])).toMatchObject({ code: 255, stderr: 'CT is locked (disk)\n' });
    hung.kill('SIGKILL');
    await hung;
    await clearFaults(node.stateDir);
    // A killed clone leaves both locks behind, as on PVE.
    expect(readGuestConfig(node.stateDir, 100)?.props['lock']).toBe('disk');
    expect((await node.run('pct', ['unlock', '100'])).code).toBe(0);
  });

  it('keeps VMIDs unique across containers and VMs', async () => {
    expect(await node.run('qm', ['create', '100'])).toMatchObject({ code: 255, stderr: `unable to create VM 100 - CT 100 already exists on node '${node.name}'\n` });
    expect(await node.run('pct', ['create', '330', TEMPLATE_VOLID, '--storage', 'local-zfs'])).toMatchObject({ code: 255, stderr: `CT 330 already exists on node '${node.name}'\n` });
  });
});

describe('faults', () => {
  it('dies half-way through a create, leaving the lock in the config', async () => {
    await setFaults(node.stateDir, [{ tool: 'pct', command: 'create', kind: 'die' }]);
    const r = await node.spawn('pct', create(201));
    expect(r.signal).toBe('SIGKILL');
    expect(readGuestConfig(node.stateDir, 201)?.props['lock']).toBe('create');
    expect(readCalls(node.stateDir).at(-1)).toMatchObject({ tool: 'pct', argv: create(201), exitCode: 137 });
    await clearFaults(node.stateDir);
    expect(await node.run('pct', ['start', '201'])).toMatchObject({ code: 255, stderr: 'CT is locked (create)\n' });
  });

  it('fails the nth matching call once, or every call from then on', async () => {
    await setFaults(node.stateDir, [{ tool: 'pct', command: 'config', nth: 2, kind: 'fail', message: 'emulated outage', exitCode: 42 }]);
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await node.run('pct', ['conf', '100'])).code);
    expect(codes).toEqual([0, 42, 0]);
    await setFaults(node.stateDir, [{ tool: 'pct', command: 'status', vmid: 100, kind: 'fail', persistent: true }]);
    expect(await node.run('pct', ['status', '100'])).toMatchObject({ code: 255, stderr: 'emulated failure\n' });
    expect(await node.run('pct', ['status', '100'])).toMatchObject({ code: 255 });
    expect((await node.run('pct', ['status', '201'])).code).toBe(0);
  });

  it('hangs a call until it is killed', async () => {
    await setFaults(node.stateDir, [{ tool: 'qm', kind: 'hang' }]);
    const r = await node.run('qm', ['list'], { timeoutMs: 600 });
    expect(r.code).toBe(128);
    await clearFaults(node.stateDir);
    expect((await node.run('qm', ['list'])).code).toBe(0);
  });

  it('takes the whole node down: every tool fails, or hangs', async () => {
    await setFaults(node.stateDir, [{ kind: 'node-down' }]);
    const p = await node.run('pvesh', ['get', '/cluster/nextid']);
    expect(p).toMatchObject({ code: 111, stdout: '' });
    expect(p.stderr).toContain('Unable to load access control list: Connection refused\n');
    expect((await node.run('zfs', ['list'])).code).toBe(111);
    await setFaults(node.stateDir, [{ kind: 'node-down', mode: 'hang' }]);
    expect((await node.run('pct', ['list'], { timeoutMs: 600 })).code).toBe(128);
    await clearFaults(node.stateDir);
    await addFault(node.stateDir, { tool: 'zpool', kind: 'fail', message: 'cannot open /dev/zfs', exitCode: 1 });
    expect(await node.run('zpool', ['list'])).toMatchObject({ code: 1, stderr: 'cannot open /dev/zfs\n' });
    await clearFaults(node.stateDir);
  });
});

describe('concurrency', () => {
  it('lets only one of two parallel clones take the source (CT is locked (disk))', async () => {
    setTimeScale(node.stateDir, 0.05); // lock waits of 500 ms keep this robust on a busy machine
    const [a, b] = await Promise.all([node.run('pct', ['clone', '100', '300']), node.run('pct', ['clone', '100', '301'])]);
    setTimeScale(node.stateDir, 0.02);
    // The loser may first wait for the flock the winner holds while setting its lock.
    const results = [a, b].map((r) => `${r.code} ${r.stderr.replace('trying to acquire lock...\n OK\n', '')}`).sort();
    expect(results).toEqual(['0 ', '255 CT is locked (disk)\n']);
    expect(readGuestConfig(node.stateDir, 100)?.props['lock']).toBeUndefined();
  });

  it('creates distinct VMIDs in parallel, and a taken VMID fails', async () => {
    const rs = await Promise.all([310, 311, 312].map((id) => node.run('pct', create(id))));
    expect(rs.map((r) => r.code)).toEqual([0, 0, 0]);
    const [x, y] = await Promise.all([node.run('pct', create(320)), node.run('pct', create(320))]);
    const errs = [x, y].filter((r) => r.code !== 0).map((r) => r.stderr);
    expect(errs).toHaveLength(1);
    // Depending on timing PVE reports the taken ID before the task, inside create_and_lock_config,
    // or gives up waiting for the flock that the first create holds during its whole task.
    expect(errs[0]).toMatch(
      /^(CT 320 already exists on node '[^']+'|unable to create CT 320 - CT 320 already exists on node '[^']+'|trying to acquire lock\.\.\.\nunable to create CT 320 - can't lock file '\/run\/lock\/lxc\/pve-config-320\.lock' - got timeout)\n$/,
    );
  });

  it('does not reserve /cluster/nextid: parallel callers may get the same id', async () => {
    const ids = await Promise.all([0, 1].map(() => node.run('pvesh', ['get', '/cluster/nextid'])));
    expect(ids[0]?.stdout).toBe(ids[1]?.stdout);
    const id = String(ids[0]?.stdout).trim();
    const [c1, c2] = await Promise.all([node.run('pct', create(Number(id))), node.run('pct', create(Number(id)))]);
    expect([c1.code, c2.code].sort()).toEqual([0, 255]);
  });

  it('records every invocation with its exit code and duration', () => {
    const calls = readCalls(node.stateDir);
    expect(calls.length).toBeGreaterThan(20);
    for (const c of calls) expect(c).toEqual({ time: expect.any(String), tool: expect.any(String), argv: expect.any(Array), exitCode: expect.any(Number), durationMs: expect.any(Number), node: node.name, pid: expect.any(Number) });
    const mutating = mutatingCalls(node.stateDir);
    expect(mutating.some((c) => c.argv[0] === 'clone')).toBe(true);
    expect(mutating.some((c) => c.argv[0] === 'list' || c.argv[0] === 'status' || c.argv[0] === 'conf')).toBe(false);
  });
});
