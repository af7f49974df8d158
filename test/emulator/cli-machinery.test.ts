import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCt, lines, oneNode, type TestNode } from './emu-helpers.js';
import type { EmulatedNodes } from '../harness/index.js';

// The PVE CLI machinery shared by pct/qm/pvesm/pveam (docs/reference/proxmox-cli.md §0): command resolution,
// option parsing, usage texts and exit codes.
let node: TestNode;
let handle: EmulatedNodes;

beforeAll(async () => {
  ({ node, handle } = await oneNode());
  await createCt(node, 100);
});
afterAll(async () => handle.teardown());

describe('command resolution', () => {
  it('accepts a unique prefix of a command', async () => {
    const r = await node.run('pct', ['conf', '100']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('hostname: ct100\n');
  });

  it('prints the usage listing for an unknown command and exits 255', async () => {
    const r = await node.run('pct', ['frobnicate', '100']);
    expect(r.code).toBe(255);
    expect(r.stdout).toBe('');
    const l = r.stderr.split('\n');
    expect(l[0]).toBe("ERROR: unknown command 'pct frobnicate'");
    expect(l[1]).toBe('USAGE: pct <COMMAND> [ARGS] [OPTIONS]');
    expect(r.stderr).toContain('       pct clone <vmid> <newid> [OPTIONS]\n');
    expect(r.stderr).toContain('       pct set <vmid> [OPTIONS]\n');
    expect(r.stderr).toContain('       pct unlock <vmid>\n');
    // classes are separated by an empty line
    expect(r.stderr).toContain('pct template <vmid>\n\n       pct config <vmid> [OPTIONS]\n');
  });

  it('treats an ambiguous prefix as an incomplete command', async () => {
    const r = await node.run('pct', ['sta', '100']);
    expect(r.code).toBe(255);
    expect(r.stderr.split('\n')[0]).toBe("ERROR: incomplete command 'pct sta'");
  });

  it('reports a missing command', async () => {
    const r = await node.run('qm', []);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/^ERROR: no command specified\nUSAGE: qm <COMMAND> \[ARGS\] \[OPTIONS\]\n\n/);
    // sub-command groups come first in qm's listing
    expect(r.stderr).toContain('       qm cloudinit dump <vmid> <type>\n');
    expect(r.stderr).toContain('       qm guest exec <vmid> [<extra-args>] [OPTIONS]\n');
  });

  it('resolves aliases such as qm agent -> qm guest cmd', async () => {
    const r = await node.run('qm', ['agent', '100']);
    expect(r.code).toBe(255);
    expect(lines(r.stderr)).toEqual(['400 not enough arguments', 'qm guest cmd <vmid> <command>']);
  });
});

describe('arguments and options', () => {
  it('fails with "400 not enough arguments" and the usage line', async () => {
    const r = await node.run('pct', ['snapshot', '100']);
    expect(r.code).toBe(255);
    expect(r.stderr).toBe('400 not enough arguments\npct snapshot <vmid> <snapname> [OPTIONS]\n');
  });

  it('fails with "400 too many arguments"', async () => {
    const r = await node.run('pct', ['config', '100', 'extra']);
    expect(r.code).toBe(255);
    expect(r.stderr).toBe('400 too many arguments\npct config <vmid> [OPTIONS]\n');
  });

  it('reports an unknown option the way Getopt::Long does', async () => {
    const r = await node.run('pct', ['set', '100', '--colour', 'red']);
    expect(r.code).toBe(255);
    expect(r.stderr).toBe('Unknown option: colour\n400 unable to parse option\npct set <vmid> [OPTIONS]\n');
  });

  it('accepts -opt, --opt, --opt=value and unique option prefixes', async () => {
    expect((await node.run('pct', ['set', '100', '-cores', '2'])).code).toBe(0);
    expect((await node.run('pct', ['set', '100', '--memory=768', '--swa', '256'])).code).toBe(0);
    const cfg = (await node.run('pct', ['config', '100'])).stdout;
    expect(cfg).toContain('cores: 2\n');
    expect(cfg).toContain('memory: 768\n');
    expect(cfg).toContain('swap: 256\n');
  });

  it('parses booleans 1/0, yes/no, true/false, on/off and a bare flag', async () => {
    for (const [v, want] of [
      ['yes', '1'],
      ['off', '0'],
      ['TRUE', '1'],
      ['no', '0'],
    ]) {
      expect((await node.run('pct', ['set', '100', '--onboot', v ?? ''])).code).toBe(0);
      expect((await node.run('pct', ['config', '100'])).stdout).toContain(`onboot: ${want}\n`);
    }
    expect((await node.run('pct', ['set', '100', '--protection'])).code).toBe(0);
    expect((await node.run('pct', ['config', '100'])).stdout).toContain('protection: 1\n');
    expect((await node.run('pct', ['set', '100', '--protection', '0'])).code).toBe(0);
  });

  it('rejects a value that is no boolean', async () => {
    const r = await node.run('pct', ['set', '100', '--onboot', 'maybe']);
    expect(r.code).toBe(255);
    expect(r.stderr).toBe('400 unable to parse boolean option\npct set <vmid> [OPTIONS]\n');
  });

  it('exits 2 when the config does not exist (errno leaks into die)', async () => {
    const r = await node.run('pct', ['config', '999']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`Configuration file 'nodes/${node.name}/lxc/999.conf' does not exist\n`);
    const q = await node.run('qm', ['status', '999']);
    expect(q.code).toBe(2);
    expect(q.stderr).toBe(`Configuration file 'nodes/${node.name}/qemu-server/999.conf' does not exist\n`);
  });

  it('exits 255 when the missing config is detected inside a task', async () => {
    const r = await node.run('pct', ['start', '999']);
    expect(r.code).toBe(255);
    expect(r.stderr).toBe(`Configuration file 'nodes/${node.name}/lxc/999.conf' does not exist\n`);
  });

  it('validates the VMID: type check before format', async () => {
    const a = await node.run('pct', ['status', 'abc']);
    expect(a.stderr).toBe("400 Parameter verification failed.\nvmid: type check ('integer') failed - got 'abc'\npct status <vmid> [OPTIONS]\n");
    const b = await node.run('pct', ['status', '42']);
    expect(b.code).toBe(255);
    expect(b.stderr).toBe('400 Parameter verification failed.\nvmid: invalid format - value does not look like a valid VM ID\n\npct status <vmid> [OPTIONS]\n');
  });

  it('prints help for one command', async () => {
    const r = await node.run('pct', ['help', 'clone']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('USAGE: pct clone <vmid> <newid> [OPTIONS]\n');
  });
});
