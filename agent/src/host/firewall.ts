/**
 * PVE firewall rules as data: the form the API returns a rule in and the form a spec rule takes once
 * written, so that both compare as text. Phoenix's own rules carry a comment starting with
 * `phoenix:`; a rule without it was made by hand.
 */
import { InvalidArgumentError, type agentv1 } from '@phoenix/shared';
import type { FwLevelName, FwRuleState } from './types.js';

export const FW_MARKER = 'phoenix:';

/** Properties of a rule that make it what it is; `pos` and `digest` say where it is, `ipversion` is derived. */
const RULE_PROPS = ['type', 'action', 'macro', 'iface', 'source', 'dest', 'proto', 'dport', 'sport', 'log', 'icmp-type', 'enable', 'comment'] as const;

export function levelPath(level: FwLevelName, node: string): string {
  if (level === 'host' && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(node)) throw new InvalidArgumentError('node', node, 'not a node name');
  return level === 'cluster' ? '/cluster/firewall' : `/nodes/${node}/firewall`;
}

/** A rule from `pvesh get .../rules`. */
export function ruleFromApi(raw: Readonly<Record<string, unknown>>): FwRuleState {
  const out: Record<string, string> = {};
  for (const k of RULE_PROPS) {
    const v = raw[k];
    if (v !== undefined && v !== null && v !== '') out[k] = String(v);
  }
  // pve-firewall reads a rule without the `|` prefix as enabled.
  out['enable'] ??= '1';
  return out;
}

/** A spec rule as the API will hold it once created with `--enable 1`. */
export function ruleFromSpec(r: agentv1.FirewallRuleSpec): FwRuleState {
  const out: Record<string, string> = { type: r.type, action: r.action };
  if (r.source) out['source'] = r.source;
  if (r.dest) out['dest'] = r.dest;
  if (r.proto) out['proto'] = r.proto;
  if (r.dport) out['dport'] = r.dport;
  out['enable'] = '1';
  out['comment'] = r.comment;
  return out;
}

export function ruleKey(r: FwRuleState): string {
  return RULE_PROPS.map((k) => r[k] ?? '').join('\u0000');
}

export function isManaged(r: FwRuleState): boolean {
  return (r['comment'] ?? '').startsWith(FW_MARKER);
}

/** `pvesh create <path>/rules` arguments that make the rule. */
export function createArgs(rulesPath: string, r: FwRuleState): string[] {
  const args = ['create', rulesPath];
  for (const k of ['type', 'action', 'source', 'dest', 'proto', 'dport', 'enable', 'comment'] as const) {
    const v = r[k];
    if (v !== undefined) args.push(`--${k}`, v);
  }
  return args;
}

/** The rule as its line in a .fw file reads, for people. */
export function describeRule(r: FwRuleState): string {
  let s = `${r['enable'] === '0' ? '|' : ''}${(r['type'] ?? '').toUpperCase()} ${r['macro'] ? `${r['macro']}(${r['action'] ?? ''})` : (r['action'] ?? '')}`;
  const flags: [string, string][] = [['iface', '-i'], ['source', '-source'], ['dest', '-dest'], ['proto', '-p'], ['dport', '-dport'], ['sport', '-sport']];
  for (const [k, flag] of flags) if (r[k]) s += ` ${flag} ${r[k]}`;
  if (r['comment']) s += ` # ${r['comment']}`;
  return s;
}

export function sameRules(a: readonly FwRuleState[], b: readonly FwRuleState[]): boolean {
  return a.length === b.length && a.every((r, i) => ruleKey(r) === ruleKey(b[i] ?? {}));
}
