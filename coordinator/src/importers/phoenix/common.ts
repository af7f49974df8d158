/** What every part of the Phoenix importer shares: the era, the context, firewall rules. */
import type { z } from 'zod';
import { cidrSchema, ipv4Schema } from '@phoenix/shared';
import type { firewallRuleSchema } from '../../spec/primitives.js';
import type { templateSchema } from '../../spec/templates.js';
import { isObject, str, type JsonObject } from '../util.js';
import type { Warnings } from '../warnings.js';
import type { PhoenixFiles } from './files.js';

/**
 * E0: legacy scripts (features is a Proxmox feature string); E1: orchestrator v1.0 with VMs inline
 * in the hypervisor file; E2/E3: separate VM file; E4: phoenix-cli (HEAD).
 */
export type Era = 'E0' | 'E1' | 'E2/E3' | 'E4';

export const ERA_NAMES: Readonly<Record<Era, string>> = {
  E0: 'E0 legacy scripts',
  E1: 'E1 orchestrator v1.0 (VMs inline in the hypervisor file)',
  'E2/E3': 'E2/E3 orchestrator and phoenix CLI (separate VM file)',
  E4: 'E4 phoenix-cli',
};

export type TemplateInput = z.input<typeof templateSchema>;
export type FirewallRuleInput = z.input<typeof firewallRuleSchema>;

export interface ImportContext {
  readonly w: Warnings;
  readonly era: Era;
  readonly files: PhoenixFiles;
  /** Spec templates by name, in the order first needed. */
  readonly templates: Map<string, TemplateInput>;
  /** Phoenix id ("950", "8001") → guest name. */
  readonly names: Map<string, string>;
  /** Host NVIDIA driver version, to leave out per-guest versions that only repeat it. */
  hostDriverVersion: string | undefined;
}

export function detectEra(files: PhoenixFiles): Era {
  const h = files.hypervisor;
  const cts = isObject(files.lxc?.['lxc_configs']) ? Object.values(files.lxc['lxc_configs']) : [];
  if (files.legacyShell || cts.some((c) => isObject(c) && typeof c['features'] === 'string')) return 'E0';
  if (h && Array.isArray(h['vms'])) return 'E1';
  const e4 =
    h?.['domain_name'] !== undefined ||
    (isObject(h?.['vm_defaults']) && h['vm_defaults']['ubuntu_release'] !== undefined) ||
    files.stacks !== undefined ||
    cts.some((c) => isObject(c) && (c['mount_points'] !== undefined || c['vllm_engine_config'] !== undefined));
  return e4 ? 'E4' : 'E2/E3';
}

const PROTOS = new Set(['tcp', 'udp', 'icmp']);
const ACTIONS = new Set(['ACCEPT', 'DROP', 'REJECT']);

/** A Phoenix rule `{type, action, source?, dest?, proto, port, comment}` → ours, or undefined. */
export function firewallRule(raw: unknown, source: string, w: Warnings): FirewallRuleInput | undefined {
  if (!isObject(raw)) {
    w.add(source, 'firewall rule is not an object; dropped');
    return undefined;
  }
  const direction = str(raw['type'])?.toLowerCase();
  const action = str(raw['action'])?.toUpperCase();
  if (direction !== 'in' && direction !== 'out') {
    w.add(source, `firewall rule type ${JSON.stringify(raw['type'])} is not in/out; rule dropped`);
    return undefined;
  }
  if (action === undefined || !ACTIONS.has(action)) {
    w.add(source, `firewall rule action ${JSON.stringify(raw['action'])} is not ACCEPT/DROP/REJECT; rule dropped`);
    return undefined;
  }
  const rule: FirewallRuleInput = { direction, action: action as FirewallRuleInput['action'] };
  for (const key of ['source', 'dest'] as const) {
    const v = str(raw[key]);
    if (v === undefined) continue;
    if (ipv4Schema.safeParse(v).success || cidrSchema.safeParse(v).success) rule[key] = v;
    else w.add(source, `firewall rule ${key} ${JSON.stringify(v)} is not an IPv4 address or CIDR; left out`);
  }
  const proto = str(raw['proto'])?.toLowerCase();
  if (proto !== undefined) {
    if (PROTOS.has(proto)) rule.proto = proto as NonNullable<FirewallRuleInput['proto']>;
    else w.add(source, `firewall rule proto ${JSON.stringify(proto)} unknown; left out`);
  }
  const port = str(raw['port'])?.replace(/\s+/g, '');
  if (port !== undefined) {
    if (rule.proto !== 'tcp' && rule.proto !== 'udp') w.add(source, `port ${port} without proto tcp/udp; left out`);
    else if (/^\d{1,5}(:\d{1,5})?(,\d{1,5}(:\d{1,5})?)*$/.test(port)) rule.port = port;
    else w.add(source, `port ${JSON.stringify(port)} is not a port list; left out`);
  }
  const comment = str(raw['comment']);
  if (comment !== undefined) rule.comment = comment.slice(0, 256);
  return rule;
}

export function firewallRules(raw: unknown, source: string, w: Warnings): FirewallRuleInput[] {
  if (!Array.isArray(raw)) return [];
  const rules: FirewallRuleInput[] = [];
  raw.forEach((r, i) => {
    const rule = firewallRule(r, `${source}.${i}`, w);
    if (rule) rules.push(rule);
  });
  // Phoenix configs repeat rules verbatim; one copy is enough.
  const seen = new Set<string>();
  return rules.filter((r) => {
    const key = JSON.stringify(r);
    if (seen.has(key)) {
      w.add(source, `duplicate rule "${r.comment ?? key}" dropped`);
      return false;
    }
    seen.add(key);
    return true;
  });
}

/** Unknown keys of a Phoenix object, reported once each. */
export function reportUnknown(
  obj: JsonObject,
  known: ReadonlySet<string>,
  source: string,
  w: Warnings,
  note = 'unknown key; ignored',
): void {
  for (const key of Object.keys(obj)) if (!known.has(key)) w.add(`${source}.${key}`, note);
}

/** A name valid as a guest hostname: invalid characters become '-'. */
export function hostname(raw: string): string {
  const cleaned = raw
    .replace(/[^A-Za-z0-9.-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 63);
  return cleaned === '' ? 'guest' : cleaned;
}

/** A template/network style name: letters, digits, . _ - . */
export function refName(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63);
  return cleaned === '' ? 'template' : cleaned;
}
