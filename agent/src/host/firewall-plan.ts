/**
 * The PVE firewall of the datacenter and of the node → pvesh calls. Pure.
 *
 * At each level Phoenix's rules (comment `phoenix:…`) come first, in the spec's order, compared by
 * content and position; hand-made rules follow in the order they had, are never changed or deleted,
 * and are reported. A Phoenix rule the spec no longer has is deleted. The API puts a new rule at the
 * top and `moveto` puts a rule before the one at that position; the plan follows each call on a copy
 * of the list, so every call's position is the one the rule has at that moment, and each call is
 * guarded by the list it was planned on.
 *
 * Rules go first, options last: a DROP policy is switched on only once the rules that keep the node
 * reachable are in place.
 */
import type { agentv1 } from '@phoenix/shared';
import { createArgs, describeRule, FW_MARKER, isManaged, ruleFromSpec, ruleKey } from './firewall.js';
import type { FwLevelName, FwLevelState, FwRuleState, HostAction, HostPlan, ObservedHost } from './types.js';

export function planFirewall(spec: agentv1.HostSpec, seen: ObservedHost, plan: HostPlan): void {
  const levels: [FwLevelName, agentv1.FirewallLevelSpec | undefined][] = [
    ['cluster', spec.firewall?.cluster],
    ['host', spec.firewall?.host],
  ];
  for (const [name, want] of levels) {
    const state = seen.firewall.get(name);
    if (want && state) planRules(name, want.rules.map(ruleFromSpec), state, plan);
  }
  for (const [name, want] of [...levels].reverse()) {
    const state = seen.firewall.get(name);
    if (want && state) planOptions(name, want.options, state, plan);
  }
}

function planRules(level: FwLevelName, want: readonly FwRuleState[], state: FwLevelState, plan: HostPlan): void {
  const step = `firewall:${level}:rules`;
  const rulesPath = `${state.path}/rules`;
  const handMade = state.rules.filter((r) => !isManaged(r));
  if (handMade.length > 0) {
    plan.drift.push({
      step: `firewall:${level}:hand-made`,
      message: `${handMade.length} rule(s) without the ${FW_MARKER} marker, left as they are: ${handMade.map(describeRule).join('; ')}`,
    });
  }

  const list = [...state.rules];
  const actions: HostAction[] = [];
  const call = (summary: string, args: string[]): void => {
    actions.push({ kind: 'command', step, summary, tool: 'pvesh', args, guard: { path: rulesPath, rules: [...list] } });
  };

  // Phoenix rules the spec no longer has (each wanted rule keeps one copy), from the bottom up.
  const wanted = new Map<string, number>();
  for (const r of want) wanted.set(ruleKey(r), (wanted.get(ruleKey(r)) ?? 0) + 1);
  const drop: number[] = [];
  list.forEach((r, i) => {
    if (!isManaged(r)) return;
    const left = wanted.get(ruleKey(r)) ?? 0;
    if (left > 0) wanted.set(ruleKey(r), left - 1);
    else drop.push(i);
  });
  for (const i of drop.reverse()) {
    call(`delete ${level} firewall rule ${i} (${describeRule(list[i] ?? {})}), which the spec no longer has`, ['delete', `${rulesPath}/${i}`]);
    list.splice(i, 1);
  }

  want.forEach((rule, i) => {
    const key = ruleKey(rule);
    if (list[i] !== undefined && ruleKey(list[i]) === key) return;
    const from = list.findIndex((r, j) => j > i && ruleKey(r) === key);
    if (from >= 0) {
      call(`move ${level} firewall rule ${from} to position ${i} (${describeRule(rule)})`, ['set', `${rulesPath}/${from}`, '--moveto', String(i)]);
      move(list, from, i);
      return;
    }
    call(`add ${level} firewall rule at position ${i}: ${describeRule(rule)}`, createArgs(rulesPath, rule));
    list.unshift(rule);
    // moveto N puts the rule before the one now at N: from the top, N is one past the target.
    if (i > 0) {
      call(`move the new ${level} firewall rule to position ${i}`, ['set', `${rulesPath}/0`, '--moveto', String(i + 1)]);
      move(list, 0, i + 1);
    }
  });

  if (actions.length === 0) plan.converged.push(step);
  plan.actions.push(...actions);
}

/** Rules.pm update_rule with `moveto`: the rule leaves its place and goes before the one that was at `to`. */
function move(list: FwRuleState[], from: number, to: number): void {
  const rule = list[from];
  if (rule === undefined) return;
  const next: FwRuleState[] = [];
  list.forEach((r, i) => {
    if (i === from) return;
    if (i === to) next.push(rule);
    next.push(r);
  });
  if (to >= list.length) next.push(rule);
  list.splice(0, list.length, ...next);
}

function planOptions(level: FwLevelName, want: Readonly<Record<string, string>>, state: FwLevelState, plan: HostPlan): void {
  const step = `firewall:${level}:options`;
  const changes = Object.entries(want)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .filter(([k, v]) => state.options[k] !== v);
  if (changes.length === 0) {
    plan.converged.push(step);
    return;
  }
  plan.actions.push({
    kind: 'command',
    step,
    summary: `set ${level} firewall options ${changes.map(([k, v]) => `${k}=${v} (was ${state.options[k] ?? 'unset'})`).join(', ')}`,
    tool: 'pvesh',
    args: ['set', `${state.path}/options`, ...changes.flatMap(([k, v]) => [`--${k}`, v])],
  });
}
