/**
 * The PVE firewall through host setup: a real agent process against an emulated node whose
 * /etc/pve holds the .fw files pve-firewall reads. The spec's host firewall goes through the
 * firewall API: the datacenter options to cluster.fw, the rules (with the rule that keeps the API
 * and SSH reachable) to host.fw. A hand-made rule is left alone and reported; a rule the spec drops
 * is deleted; a second run makes no mutating call; a dry run changes nothing. Needs `npx tsc -b` first.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentv1, type TlsMaterial } from '@phoenix/shared';
import { compileSpec } from '../coordinator/src/spec/compile.js';
import { compileHost } from '../coordinator/src/spec/host-compile.js';
import { parseSpec } from '../coordinator/src/spec/load.js';
import { mutatingCalls } from './emulator/src/index.js';
import { AgentProcess } from './harness/agent-process.js';
import { createTestPki, type TestPki } from './harness/certs.js';
import { startNodes, type EmulatedNode, type EmulatedNodes } from './harness/index.js';
import { emu, logs, setupHost, snapshot, steps, type SetupOutcome } from './host-setup-client.js';

const NODE = 'pve1';
let pki: TestPki;
let agent: AgentProcess;
let emulated: EmulatedNodes;
let node: EmulatedNode;
let tls: TlsMaterial;

const WEB = { direction: 'in', action: 'ACCEPT', proto: 'tcp', port: '80,443', comment: 'web' };
const DNS = { direction: 'in', action: 'ACCEPT', source: '10.0.0.0/24', proto: 'udp', port: '53', comment: 'guests ask the host for names' };
const OUT = { direction: 'out', action: 'ACCEPT', dest: '10.0.0.153', proto: 'tcp', port: '443' };

function hostSpecWith(rules: unknown[]): { spec: agentv1.HostSpec } {
  const compiled = compileSpec(
    parseSpec({
      version: 1,
      cluster: { name: 'lab' },
      nodes: [{ name: NODE, address: '10.0.0.13', hostProfile: 'p' }],
      hostProfiles: { p: { network: { bridges: [{ name: 'vmbr0', address: '10.0.0.13/24' }] }, firewall: { policyIn: 'DROP', rules } } },
    }),
  );
  const host = compileHost(compiled, NODE);
  expect(host.errors).toEqual([]);
  return { spec: host.spec };
}

const fwFile = (rel: string): string => readFileSync(join(node.stateDir, 'host/etc/pve', rel), 'utf8');
const setup = (spec: agentv1.HostSpec, dryRun: boolean): Promise<SetupOutcome> => setupHost(agent, tls, spec, dryRun);
const pvesh = (args: string[]) => emu(node, 'pvesh', args);

const MGMT = 'IN ACCEPT -source 10.0.0.0/24 -p tcp -dport 22,8006 # phoenix: keep the Proxmox API (8006) and SSH (22) reachable from the management network';
const HAND_MADE = 'IN ACCEPT -source 192.168.7.0/24 -p tcp -dport 9100 # node exporter, by hand';

beforeAll(async () => {
  pki = await createTestPki({ nodes: [NODE] });
  tls = await pki.material(await pki.client('coordinator', 'coord-a'));
  emulated = await startNodes({ nodes: [{ name: NODE }], timeScale: 0.01 });
  node = emulated.nodes[0]!;
  const toolEnv = Object.fromEntries(Object.entries(node.env).filter(([k]) => k.startsWith('PVE_EMU_')));
  agent = await AgentProcess.start({ node: NODE, cluster: 'lab', pki, tools: { binDir: node.binDir, env: toolEnv } });
  // An admin's rule, made before Phoenix ever ran.
  const made = await pvesh(['create', `/nodes/${NODE}/firewall/rules`, '--type', 'in', '--action', 'ACCEPT', '--source', '192.168.7.0/24', '--proto', 'tcp', '--dport', '9100', '--comment', 'node exporter, by hand', '--enable', '1']);
  expect(made.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await agent?.dispose();
  await pki?.dispose();
  await emulated?.teardown();
});

describe('host firewall through node setup', () => {
  it('dry run: lists the exact pvesh calls and changes nothing', async () => {
    const before = snapshot(node.stateDir);
    const mutating = mutatingCalls(node.stateDir).length;
    const out = await setup(hostSpecWith([WEB, DNS, OUT]).spec, true);
    expect(out.error).toBeUndefined();
    const lines = logs(out);
    const pveshBin = `${node.binDir}/pvesh`;
    expect(lines).toContain(`$ ${pveshBin} create /nodes/${NODE}/firewall/rules --type in --action ACCEPT --source 10.0.0.0/24 --proto tcp --dport 22,8006 --enable 1 --comment 'phoenix: keep the Proxmox API (8006) and SSH (22) reachable from the management network'`);
    expect(lines).toContain(`$ ${pveshBin} create /nodes/${NODE}/firewall/rules --type out --action ACCEPT --dest 10.0.0.153 --proto tcp --dport 443 --enable 1 --comment phoenix:`);
    expect(lines).toContain(`$ ${pveshBin} set /nodes/${NODE}/firewall/rules/0 --moveto 2`);
    expect(lines).toContain(`$ ${pveshBin} set /nodes/${NODE}/firewall/options --enable 1`);
    expect(lines).toContain(`$ ${pveshBin} set /cluster/firewall/options --enable 1 --policy_in DROP --policy_out ACCEPT`);
    // The datacenter is switched on last, once the node's rules are in place.
    expect(lines.filter((l) => l.startsWith('$ ')).at(-1)).toContain('/cluster/firewall/options');
    expect(steps(out).find((s) => s.step === 'firewall:host:hand-made')?.message).toContain(HAND_MADE);
    expect(snapshot(node.stateDir)).toEqual(before);
    expect(mutatingCalls(node.stateDir).length).toBe(mutating);
  }, 120_000);

  it('writes cluster.fw and host.fw as PVE does, the hand-made rule kept below and reported', async () => {
    const out = await setup(hostSpecWith([WEB, DNS, OUT]).spec, false);
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({ ok: true, changed: true });
    expect(fwFile('firewall/cluster.fw')).toBe('[OPTIONS]\n\nenable: 1\npolicy_in: DROP\npolicy_out: ACCEPT\n\n');
    expect(fwFile(`nodes/${NODE}/host.fw`)).toBe(
      [
        '[OPTIONS]',
        '',
        'enable: 1',
        '',
        '[RULES]',
        '',
        MGMT,
        'IN ACCEPT -p tcp -dport 80,443 # phoenix: web',
        'IN ACCEPT -source 10.0.0.0/24 -p udp -dport 53 # phoenix: guests ask the host for names',
        'OUT ACCEPT -dest 10.0.0.153 -p tcp -dport 443 # phoenix:',
        HAND_MADE,
        '',
        '',
      ].join('\n'),
    );
    const reported = steps(out).find((s) => s.step === 'firewall:host:hand-made');
    expect(reported).toMatchObject({ state: agentv1.StepState.SKIPPED });
    expect(reported?.message).toContain(`1 rule(s) without the phoenix: marker, left as they are: ${HAND_MADE}`);
  }, 120_000);

  it('a second run makes no mutating call', async () => {
    const before = snapshot(node.stateDir);
    const mutating = mutatingCalls(node.stateDir).length;
    const out = await setup(hostSpecWith([WEB, DNS, OUT]).spec, false);
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({ ok: true, changed: false, changedSteps: [] });
    expect(mutatingCalls(node.stateDir).length).toBe(mutating);
    expect(snapshot(node.stateDir)).toEqual(before);
  }, 120_000);

  it('deletes the rule the spec dropped, puts the rest in the spec order, and leaves the hand-made rule alone', async () => {
    // The admin moves the hand-made rule to the top; the spec drops the DNS rule and swaps the others.
    expect((await pvesh(['set', `/nodes/${NODE}/firewall/rules/4`, '--moveto', '0'])).code).toBe(0);
    const out = await setup(hostSpecWith([OUT, WEB]).spec, false);
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({ ok: true, changed: true, changedSteps: ['firewall:host:rules'] });
    expect(logs(out)).toContain(`$ ${node.binDir}/pvesh delete /nodes/${NODE}/firewall/rules/3`);
    expect(fwFile(`nodes/${NODE}/host.fw`)).toContain(
      ['[RULES]', '', MGMT, 'OUT ACCEPT -dest 10.0.0.153 -p tcp -dport 443 # phoenix:', 'IN ACCEPT -p tcp -dport 80,443 # phoenix: web', HAND_MADE, '', ''].join('\n'),
    );
    const again = await setup(hostSpecWith([OUT, WEB]).spec, false);
    expect(again.result).toMatchObject({ ok: true, changed: false });
  }, 120_000);

  it('plans positions on the rules as the run finds them, not as an earlier dry run saw them', async () => {
    const { spec } = hostSpecWith([WEB]);
    const first = await setup(spec, true);
    expect(logs(first)).toContain(`$ ${node.binDir}/pvesh delete /nodes/${NODE}/firewall/rules/1`);
    // Same spec, but the admin adds a rule between the dry run and the real run: positions are planned again.
    expect((await pvesh(['create', `/nodes/${NODE}/firewall/rules`, '--type', 'in', '--action', 'DROP', '--source', '192.168.9.9', '--comment', 'blocked by hand'])).code).toBe(0);
    const out = await setup(spec, false);
    expect(out.error).toBeUndefined();
    const file = fwFile(`nodes/${NODE}/host.fw`);
    expect(file).toContain('|IN DROP -source 192.168.9.9 # blocked by hand');
    expect(file).toContain(HAND_MADE);
    expect(file).not.toContain('OUT ACCEPT -dest 10.0.0.153');
  }, 120_000);
});
