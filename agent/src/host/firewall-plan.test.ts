import { describe, expect, it } from 'vitest';
import { agentv1, isPhoenixError } from '@phoenix/shared';
import type { CommandExecutor, NodeDrivers, RunRequest } from '../drivers/index.js';
import { ruleFromSpec } from './firewall.js';
import { planHost } from './plan.js';
import { setupHost } from './setup.js';
import type { FwLevelState, FwRuleState, ObservedHost } from './types.js';

const rule = (dport: string, comment = `phoenix: port ${dport}`): agentv1.FirewallRuleSpec => ({ type: 'in', action: 'ACCEPT', source: '', dest: '', proto: 'tcp', dport, comment });
const spec = (rules: agentv1.FirewallRuleSpec[]) => agentv1.HostSpec.fromPartial({ firewall: { host: { options: { enable: '1' }, rules } } });
const HAND: FwRuleState = { type: 'in', action: 'DROP', source: '192.168.9.9', enable: '0', comment: 'by hand' };

function seen(rules: FwRuleState[], options: Record<string, string> = { enable: '1' }): ObservedHost {
  const host: FwLevelState = { path: '/nodes/pve1/firewall', options, rules };
  return { pools: new Set(), disks: new Map(), datasets: new Map(), storages: new Map(), files: new Map(), loadedProfiles: new Set(), dirs: new Map(), firewall: new Map([['host', host]]) };
}

describe('firewall planning', () => {
  it('makes no call when the Phoenix rules stand first in the spec order and the options match', () => {
    const plan = planHost(spec([rule('22'), rule('443')]), seen([ruleFromSpec(rule('22')), ruleFromSpec(rule('443')), HAND]));
    expect(plan.actions).toEqual([]);
    expect(plan.converged).toEqual(['firewall:host:rules', 'firewall:host:options']);
    expect(plan.drift).toEqual([{ step: 'firewall:host:hand-made', message: '1 rule(s) without the phoenix: marker, left as they are: |IN DROP -source 192.168.9.9 # by hand' }]);
  });

  it('keeps one copy of a rule the spec names once, deleting the other, and sets only the options that differ', () => {
    const r = ruleFromSpec(rule('22'));
    const plan = planHost(spec([rule('22')]), seen([r, HAND, r], { enable: '0' }));
    expect(plan.actions.map((a) => (a.kind === 'command' ? a.args : []))).toEqual([
      ['delete', '/nodes/pve1/firewall/rules/2'],
      ['set', '/nodes/pve1/firewall/options', '--enable', '1'],
    ]);
  });

  it('counts a rule whose content changed as a new one: the old is deleted, the new made and moved into place', () => {
    const plan = planHost(spec([rule('22'), rule('8443')]), seen([ruleFromSpec(rule('22')), ruleFromSpec(rule('443'))]));
    expect(plan.actions.map((a) => (a.kind === 'command' ? a.args.slice(0, 3) : []))).toEqual([
      ['delete', '/nodes/pve1/firewall/rules/1'],
      ['create', '/nodes/pve1/firewall/rules', '--type'],
      ['set', '/nodes/pve1/firewall/rules/0', '--moveto'],
    ]);
    expect(plan.actions.at(-1)).toMatchObject({ args: ['set', '/nodes/pve1/firewall/rules/0', '--moveto', '2'] });
  });
});

describe('firewall rule calls', () => {
  it('stop, with nothing changed, when the rules are no longer the ones the plan was made on', async () => {
    const calls: RunRequest[] = [];
    let reads = 0;
    // The first read (observe) finds no rules; by the time the call is due an admin has added one.
    const pvesh = {
      get: (path: string) => Promise.resolve(path.endsWith('/options') ? { enable: 1 } : reads++ === 0 ? [] : [{ ...HAND, pos: 0 }]),
    };
    const drivers = { zfs: { poolList: () => Promise.resolve([]) }, pvesm: { status: () => Promise.resolve([]) }, pvesh } as unknown as NodeDrivers;
    const executor = {
      run: (req: RunRequest) => {
        calls.push(req);
        return Promise.resolve({ stdout: '', stderr: '', exitCode: 0, durationMs: 0 });
      },
      toolPath: (tool: string) => `/usr/sbin/${tool}`,
    } as unknown as CommandExecutor;
    const io = { drivers, executor, hostRoot: '/nonexistent-host-root', node: 'pve1' };
    const progress = { step: () => undefined, log: () => undefined };
    const err = await setupHost(spec([rule('22')]), io, { signal: new AbortController().signal, progress, dryRun: false }).catch((e: unknown) => e);
    expect(isPhoenixError(err) && err.code).toBe('FAILED_PRECONDITION');
    expect((err as Error).message).toContain('the rules at /nodes/pve1/firewall/rules changed while host setup ran');
    expect(calls.filter((c) => c.mutating)).toEqual([]);
  });
});
