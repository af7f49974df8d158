import { createHash } from 'node:crypto';
import type { Ctx } from '../core/ctx.js';
import { PveException, die } from '../core/errors.js';
import type { PropSchema } from '../core/schema.js';
import type { GuestType } from '../core/state.js';
import { loadConfig } from '../guest-common/guest-store.js';
import { readHostFile, writeHostFile, removeHostFile } from '../host/host-files.js';

/**
 * The PVE firewall API (pve-firewall: PVE::API2::Firewall::{Cluster,Host,VM,Rules}) over the real
 * `.fw` files under the node's /etc/pve: datacenter `firewall/cluster.fw`, node
 * `nodes/<node>/host.fw`, guest `firewall/<vmid>.fw`. One implementation for every level; a level
 * differs only in its file, its options schema and whether rules may name an interface freely.
 * The file is parsed on every call, so a hand edit is seen exactly as pve-firewall sees it.
 */

export interface FwRule {
  type: string;
  action: string;
  enable?: number;
  macro?: string;
  iface?: string;
  source?: string;
  dest?: string;
  proto?: string;
  dport?: string;
  sport?: string;
  log?: string;
  'icmp-type'?: string;
  comment?: string;
}

interface FwConf {
  options: Record<string, string>;
  rules: FwRule[];
  /** Sections this emulator does not interpret ([ALIASES], [IPSET ...], [group ...]), kept verbatim. */
  other: string[];
}

export type FwLevel = { kind: 'cluster' } | { kind: 'host' } | { kind: 'guest'; type: GuestType };

const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug', 'nolog'];
const LOG: PropSchema = { type: 'string', enum: LOG_LEVELS, optional: 1 };
const BOOL: PropSchema = { type: 'boolean', optional: 1 };
const POLICY: PropSchema = { type: 'string', enum: ['ACCEPT', 'REJECT', 'DROP'], optional: 1 };

/** $cluster_option_properties, $host_option_properties, $vm_option_properties (PVE/Firewall.pm). */
const OPTIONS: Record<FwLevel['kind'], Record<string, PropSchema>> = {
  cluster: {
    enable: { type: 'integer', minimum: 0, optional: 1 },
    ebtables: BOOL,
    policy_in: POLICY,
    policy_out: POLICY,
    policy_forward: { type: 'string', enum: ['ACCEPT', 'DROP'], optional: 1 },
    log_ratelimit: { type: 'string', optional: 1 },
  },
  host: {
    enable: BOOL,
    log_level_in: LOG,
    log_level_out: LOG,
    log_level_forward: LOG,
    tcp_flags_log_level: LOG,
    smurf_log_level: LOG,
    nosmurfs: BOOL,
    tcpflags: BOOL,
    nf_conntrack_max: { type: 'integer', minimum: 32768, optional: 1 },
    nf_conntrack_tcp_timeout_established: { type: 'integer', minimum: 7875, optional: 1 },
    nf_conntrack_tcp_timeout_syn_recv: { type: 'integer', minimum: 30, maximum: 60, optional: 1 },
    ndp: BOOL,
    nf_conntrack_allow_invalid: BOOL,
    nf_conntrack_helpers: { type: 'string', optional: 1 },
    protection_synflood: BOOL,
    protection_synflood_rate: { type: 'integer', optional: 1 },
    protection_synflood_burst: { type: 'integer', optional: 1 },
    log_nf_conntrack: BOOL,
    nftables: BOOL,
  },
  guest: {
    enable: BOOL,
    dhcp: BOOL,
    ipfilter: BOOL,
    macfilter: BOOL,
    ndp: BOOL,
    radv: BOOL,
    log_level_in: LOG,
    log_level_out: LOG,
    policy_in: POLICY,
    policy_out: POLICY,
  },
};

/** $rule_properties (PVE/Firewall.pm); create makes type and action required. */
export const RULE_PARAMS: Record<string, PropSchema> = {
  type: { type: 'string', enum: ['in', 'out', 'forward', 'group'], optional: 1 },
  action: { type: 'string', pattern: '[A-Za-z][A-Za-z0-9\\-\\_]+', maxLength: 20, minLength: 2, optional: 1 },
  macro: { type: 'string', optional: 1, maxLength: 128 },
  iface: { type: 'string', format: 'pve-iface', optional: 1 },
  source: { type: 'string', optional: 1, maxLength: 512 },
  dest: { type: 'string', optional: 1, maxLength: 512 },
  proto: { type: 'string', optional: 1 },
  enable: { type: 'integer', minimum: 0, optional: 1 },
  log: LOG,
  sport: { type: 'string', optional: 1 },
  dport: { type: 'string', optional: 1 },
  comment: { type: 'string', optional: 1 },
  'icmp-type': { type: 'string', optional: 1 },
  pos: { type: 'integer', minimum: 0, optional: 1 },
  digest: { type: 'string', optional: 1, maxLength: 64 },
};
const RULE_KEYS = Object.keys(RULE_PARAMS).filter((k) => k !== 'pos' && k !== 'digest') as (keyof FwRule)[];

function fwPath(ctx: Ctx, level: FwLevel, vmid: string | undefined): string {
  if (level.kind === 'cluster') return '/etc/pve/firewall/cluster.fw';
  if (level.kind === 'host') return `/etc/pve/nodes/${ctx.node}/host.fw`;
  loadConfig(ctx, ctx.state, level.type, vmid ?? '');
  return `/etc/pve/firewall/${vmid ?? ''}.fw`;
}

/** generic_fw_config_parser, for the sections Phoenix touches. */
export function parseFw(text: string | undefined): FwConf {
  const conf: FwConf = { options: {}, rules: [], other: [] };
  let section: 'options' | 'rules' | 'other' | undefined;
  for (const raw of (text ?? '').split('\n')) {
    const line = raw.trim();
    const head = /^\[([^\]]+)\]/.exec(line);
    if (head) {
      const name = (head[1] ?? '').toLowerCase();
      section = name === 'options' ? 'options' : name === 'rules' ? 'rules' : 'other';
      if (section === 'other') conf.other.push(raw);
      continue;
    }
    if (section === 'other') {
      conf.other.push(raw);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    if (section === 'options') {
      const m = /^(\S+)\s*:\s*(\S+)\s*$/.exec(line);
      if (m) conf.options[(m[1] ?? '').toLowerCase()] = m[2] ?? '';
    } else if (section === 'rules') {
      const rule = parseRule(line);
      if (rule) conf.rules.push(rule);
    }
  }
  return conf;
}

/** parse_fw_rule: `[|]TYPE [MACRO(]ACTION[)] [-i x] [-source x] ... [# comment]`. */
function parseRule(text: string): FwRule | undefined {
  let line = text;
  const rule: Partial<FwRule> = {};
  const c = /#\s*(.*?)\s*$/.exec(line);
  if (c) {
    rule.comment = c[1] ?? '';
    line = line.slice(0, c.index);
  }
  rule.enable = line.startsWith('|') ? 0 : 1;
  line = line.replace(/^\|/, '');
  const head = /^(\S+)\s+(\S+)\s*/.exec(line);
  if (!head) return undefined;
  rule.type = (head[1] ?? '').toLowerCase();
  rule.action = head[2] ?? '';
  const macro = /^(\S+)\((ACCEPT|DROP|REJECT)\)$/.exec(rule.action);
  if (macro && rule.type !== 'group') {
    rule.macro = macro[1] ?? '';
    rule.action = macro[2] ?? '';
  }
  line = line.slice(head[0].length);
  const opts: [RegExp, keyof FwRule][] = [
    [/^-i (\S+)\s*/, 'iface'],
    [/^(?:-p|--?proto) (\S+)\s*/, 'proto'],
    [/^--?dport (\S+)\s*/, 'dport'],
    [/^--?sport (\S+)\s*/, 'sport'],
    [/^--?source (\S+)\s*/, 'source'],
    [/^--?dest (\S+)\s*/, 'dest'],
    [/^--?log (\S+)\s*/, 'log'],
    [/^--?icmp-type (\S+)\s*/, 'icmp-type'],
  ];
  while (line.length > 0) {
    const hit = opts.map(([re, key]) => [re.exec(line), key] as const).find(([m]) => m);
    if (!hit?.[0]) break;
    (rule as Record<string, string>)[hit[1]] = hit[0][1] ?? '';
    line = line.slice(hit[0][0].length);
  }
  return rule as FwRule;
}

/** $format_options + $format_rules: the text save_clusterfw_conf / save_hostfw_conf / save_vmfw_conf write. */
export function formatFw(conf: FwConf): string {
  let raw = '';
  const keys = Object.keys(conf.options).sort();
  if (keys.length > 0) raw += `[OPTIONS]\n\n${keys.map((k) => `${k}: ${conf.options[k] ?? ''}\n`).join('')}\n`;
  if (conf.rules.length > 0) raw += `[RULES]\n\n${conf.rules.map(formatRule).join('')}\n`;
  if (conf.other.length > 0) raw += `${conf.other.join('\n').replace(/\n*$/, '')}\n\n`;
  return raw;
}

function formatRule(r: FwRule): string {
  let s = r.enable !== undefined && !r.enable ? '|' : '';
  s += r.type.toUpperCase();
  s += r.macro ? ` ${r.macro}(${r.action})` : ` ${r.action}`;
  if (r.iface) s += ` -i ${r.iface}`;
  if (r.type !== 'group') {
    if (r.source) s += ` -source ${r.source}`;
    if (r.dest) s += ` -dest ${r.dest}`;
    if (r.proto) s += ` -p ${r.proto}`;
    if (r.dport) s += ` -dport ${r.dport}`;
    if (r.sport) s += ` -sport ${r.sport}`;
    if (r.log) s += ` -log ${r.log}`;
    if (r['icmp-type']) s += ` -icmp-type ${r['icmp-type']}`;
  }
  if (r.comment && !/^\s*$/.test(r.comment)) s += ` # ${r.comment}`;
  return `${s}\n`;
}

/** copy_list_with_digest / copy_opject_with_digest: sha1 over every `key:value` line in key order. */
function digestOf(entries: readonly Record<string, unknown>[]): string {
  const sha = createHash('sha1');
  for (const e of entries) for (const k of Object.keys(e).sort()) if (e[k] !== undefined) sha.update(`${k}:${String(e[k])}\n`);
  return sha.digest('hex');
}

function assertDigest(current: string, given: string | undefined): void {
  if (given !== undefined && given !== current) die('detected modified configuration - file changed by other user? Try again.');
}

/** verify_rule, the checks a rule from the API meets before it is saved. */
function verifyRule(rule: FwRule, level: FwLevel): void {
  const errors: [string, string][] = [];
  const types = level.kind === 'guest' ? ['in', 'out', 'group'] : ['in', 'out', 'forward', 'group'];
  if (!types.includes(rule.type)) errors.push(['type', `invalid rule type '${rule.type}' for rule_env '${level.kind === 'guest' ? (level.type === 'lxc' ? 'ct' : 'vm') : level.kind}'`]);
  if (rule.type !== 'group' && !['ACCEPT', 'DROP', 'REJECT'].includes(rule.action)) errors.push(['action', `unknown action '${rule.action}'`]);
  if (level.kind === 'guest' && rule.iface !== undefined && !/^net\d+$/.test(rule.iface)) errors.push(['iface', "value does not match the regex pattern 'net\\d+'"]);
  if ((rule.dport !== undefined || rule.sport !== undefined) && !rule.proto) errors.push(['proto', `missing property - '${rule.dport !== undefined ? 'dport' : 'sport'}' requires this property`]);
  else if (rule.dport !== undefined && rule.proto && !['tcp', 'udp', 'dccp', 'sctp', '6', '17', '33', '132'].includes(rule.proto)) errors.push(['dport', `protocol '${rule.proto}' does not support ports`]);
  for (const key of ['dport', 'sport'] as const) {
    const v = rule[key];
    if (v !== undefined && !v.split(',').every((p) => /^\d{1,5}(:\d{1,5})?$/.test(p) && p.split(':').every((n) => Number(n) <= 65535))) errors.push([key, `invalid port '${v}'`]);
  }
  for (const key of ['source', 'dest'] as const) {
    const v = rule[key];
    if (v !== undefined && !v.split(',').every((a) => /^(\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?|[+]?[A-Za-z][A-Za-z0-9_-]+)$/.test(a))) errors.push([key, `invalid IP address: ${v}`]);
  }
  if (errors.length > 0) throw new PveException('Parameter verification failed.\n', { code: 400, errors });
}

/** copy_rule_data: '' or '-' deletes a property. */
function copyRuleData(rule: FwRule, p: Record<string, string>): void {
  const r = rule as unknown as Record<string, unknown>;
  for (const k of RULE_KEYS) {
    const v = p[k];
    if (v === undefined) continue;
    if (v === '' || v === '-') delete r[k];
    else r[k] = k === 'enable' ? Number(v) : v;
  }
}

function rulesForApi(list: FwRule[]): Record<string, unknown>[] {
  const entries = list.map((r) => ({ ...r }) as Record<string, unknown>);
  const digest = digestOf(entries);
  return entries.map((e, pos) => ({ ...e, pos, digest }));
}

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  params?: Record<string, PropSchema>;
  handler: (ctx: Ctx, p: Record<string, string>) => unknown;
}

/** Rules and options routes of one level, below `base` (e.g. `/cluster/firewall`, `/nodes/{node}/lxc/{vmid}/firewall`). */
export function firewallRoutes(base: string, level: FwLevel): Route[] {
  const load = (ctx: Ctx, p: Record<string, string>): { path: string; conf: FwConf } => {
    const path = fwPath(ctx, level, p['vmid']);
    return { path, conf: parseFw(readHostFile(ctx.state, path)) };
  };
  const save = (ctx: Ctx, path: string, conf: FwConf): void => {
    const text = formatFw(conf);
    if (text === '') removeHostFile(ctx.state, path);
    else writeHostFile(ctx.state, path, text);
  };
  const change = (ctx: Ctx, p: Record<string, string>, fn: (conf: FwConf) => void): Promise<null> =>
    ctx.state.withStateLock(() => {
      const { path, conf } = load(ctx, p);
      fn(conf);
      save(ctx, path, conf);
      return null;
    });
  const at = (conf: FwConf, pos: string | undefined): FwRule => {
    const rule = conf.rules[Number(pos)];
    if (!rule) die(`no rule at position ${pos ?? ''}`);
    return rule;
  };
  const POS: PropSchema = { type: 'integer', minimum: 0 };
  const optionSchema = OPTIONS[level.kind];
  return [
    { method: 'GET', path: `${base}/rules`, handler: (ctx, p) => rulesForApi(load(ctx, p).conf.rules) },
    {
      method: 'POST',
      path: `${base}/rules`,
      params: { ...RULE_PARAMS, type: { ...RULE_PARAMS['type'], optional: 0 }, action: { ...RULE_PARAMS['action'], optional: 0 } },
      handler: (ctx, p) =>
        change(ctx, p, (conf) => {
          const rule: FwRule = { type: '', action: '' };
          copyRuleData(rule, p);
          verifyRule(rule, level);
          if (p['enable'] === undefined) rule.enable = 0;
          // Rules.pm create_rule: a new rule always goes to the top; `pos` is accepted and unused.
          conf.rules.unshift(rule);
        }),
    },
    { method: 'GET', path: `${base}/rules/{pos}`, params: { pos: POS }, handler: (ctx, p) => rulesForApi(load(ctx, p).conf.rules)[Number(p['pos'])] ?? die(`no rule at position ${p['pos'] ?? ''}`) },
    {
      method: 'PUT',
      path: `${base}/rules/{pos}`,
      params: { ...RULE_PARAMS, pos: POS, moveto: { type: 'integer', minimum: 0, optional: 1 }, delete: { type: 'string', format: 'pve-configid-list', optional: 1 } },
      handler: (ctx, p) =>
        change(ctx, p, (conf) => {
          assertDigest(digestOf(conf.rules.map((r) => ({ ...r }))), p['digest']);
          const pos = Number(p['pos']);
          const rule = at(conf, p['pos']);
          const moveto = p['moveto'] === undefined ? undefined : Number(p['moveto']);
          if (moveto !== undefined && moveto !== pos) {
            const next: FwRule[] = [];
            conf.rules.forEach((r, i) => {
              if (i === pos) return;
              if (i === moveto) next.push(rule);
              next.push(r);
            });
            if (moveto >= conf.rules.length) next.push(rule);
            conf.rules = next;
            return;
          }
          copyRuleData(rule, p);
          for (const key of (p['delete'] ?? '').split(/[,;\s]+/).filter(Boolean)) {
            if (!(key in RULE_PARAMS)) throw new PveException('Parameter verification failed.\n', { code: 400, errors: [['delete', `no such property ('${key}')`]] });
            if (key === 'type' || key === 'action') throw new PveException('Parameter verification failed.\n', { code: 400, errors: [['delete', `unable to delete required property '${key}'`]] });
            delete (rule as unknown as Record<string, unknown>)[key];
          }
          verifyRule(rule, level);
        }),
    },
    {
      method: 'DELETE',
      path: `${base}/rules/{pos}`,
      params: { pos: POS, digest: { type: 'string', optional: 1, maxLength: 64 } },
      handler: (ctx, p) =>
        change(ctx, p, (conf) => {
          assertDigest(digestOf(conf.rules.map((r) => ({ ...r }))), p['digest']);
          at(conf, p['pos']);
          conf.rules.splice(Number(p['pos']), 1);
        }),
    },
    {
      method: 'GET',
      path: `${base}/options`,
      handler: (ctx, p) => {
        const options = load(ctx, p).conf.options;
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(options)) out[k] = optionSchema[k]?.type === 'integer' || optionSchema[k]?.type === 'boolean' ? Number(v) : v;
        return { ...out, digest: digestOf([options]) };
      },
    },
    {
      method: 'PUT',
      path: `${base}/options`,
      params: { ...optionSchema, delete: { type: 'string', format: 'pve-configid-list', optional: 1 }, digest: { type: 'string', optional: 1, maxLength: 64 } },
      handler: (ctx, p) =>
        change(ctx, p, (conf) => {
          assertDigest(digestOf([conf.options]), p['digest']);
          for (const key of (p['delete'] ?? '').split(/[,;\s]+/).filter(Boolean)) delete conf.options[key];
          for (const key of Object.keys(optionSchema)) if (p[key] !== undefined) conf.options[key] = p[key];
        }),
    },
  ];
}
