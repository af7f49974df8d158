import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatedNodes } from '../harness/index.js';
import { createCt, oneNode, type TestNode } from './emu-helpers.js';

// The PVE firewall API over the real .fw files (pve-firewall's Rules.pm, Cluster.pm, Host.pm).
let node: TestNode;
let handle: EmulatedNodes;
const fw = (rel: string): string => path.join(node.stateDir, 'host', 'etc/pve', rel);

beforeAll(async () => {
  ({ node, handle } = await oneNode({}));
  await createCt(node, 100, ['--memory', '512', '--storage', 'local-zfs']);
});
afterAll(async () => handle.teardown());

describe('pvesh firewall endpoints', () => {
  it('creates rules at the top, disabled unless enabled, and writes cluster.fw as pve-firewall does', async () => {
    const add = (args: string[]) => node.run('pvesh', ['create', '/cluster/firewall/rules', ...args]);
    expect((await add(['--type', 'in', '--action', 'ACCEPT', '--proto', 'tcp', '--dport', '80', '--comment', 'web', '--enable', '1'])).code).toBe(0);
    expect((await add(['--type', 'out', '--action', 'DROP', '--dest', '10.0.0.153'])).code).toBe(0);
    expect((await node.run('pvesh', ['set', '/cluster/firewall/options', '--enable', '1', '--policy_in', 'DROP'])).code).toBe(0);
    expect(fs.readFileSync(fw('firewall/cluster.fw'), 'utf8')).toBe(
      '[OPTIONS]\n\nenable: 1\npolicy_in: DROP\n\n[RULES]\n\n|OUT DROP -dest 10.0.0.153\nIN ACCEPT -p tcp -dport 80 # web\n\n',
    );
    const rules = JSON.parse((await node.run('pvesh', ['get', '/cluster/firewall/rules', '--output-format', 'json'])).stdout) as Record<string, unknown>[];
    expect(rules.map((r) => [r['pos'], r['type'], r['enable']])).toEqual([[0, 'out', 0], [1, 'in', 1]]);
    // moveto puts the rule before the one at that position
    expect((await node.run('pvesh', ['set', '/cluster/firewall/rules/0', '--moveto', '2'])).code).toBe(0);
    expect(fs.readFileSync(fw('firewall/cluster.fw'), 'utf8')).toContain('[RULES]\n\nIN ACCEPT -p tcp -dport 80 # web\n|OUT DROP -dest 10.0.0.153\n');
    expect((await node.run('pvesh', ['delete', '/cluster/firewall/rules/1'])).code).toBe(0);
    expect((await node.run('pvesh', ['delete', '/cluster/firewall/rules/5'])).stderr).toBe('no rule at position 5\n');
  });

  it('rejects a port without a protocol, with the parameter named', async () => {
    const bad = await node.run('pvesh', ['create', '/cluster/firewall/rules', '--type', 'in', '--action', 'ACCEPT', '--dport', '22']);
    expect(bad.code).toBe(255);
    expect(bad.stderr).toContain("proto: missing property - 'dport' requires this property");
  });

  it('serves the node and guest levels from host.fw and <vmid>.fw', async () => {
    expect((await node.run('pvesh', ['set', `/nodes/${node.name}/firewall/options`, '--enable', '1'])).code).toBe(0);
    expect(fs.readFileSync(fw(`nodes/${node.name}/host.fw`), 'utf8')).toBe('[OPTIONS]\n\nenable: 1\n\n');
    expect((await node.run('pvesh', ['create', `/nodes/${node.name}/lxc/100/firewall/rules`, '--type', 'in', '--action', 'ACCEPT', '--iface', 'net0', '--enable', '1'])).code).toBe(0);
    expect(fs.readFileSync(fw('firewall/100.fw'), 'utf8')).toBe('[RULES]\n\nIN ACCEPT -i net0\n\n');
    const missing = await node.run('pvesh', ['get', `/nodes/${node.name}/lxc/999/firewall/rules`]);
    expect(missing.code).not.toBe(0);
  });
});
