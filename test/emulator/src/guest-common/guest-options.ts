import crypto from 'node:crypto';
import type { GuestConfig } from '../core/config-file.js';
import { die } from '../core/errors.js';
import { splitList } from '../core/formats.js';

/** Option values containers and VMs treat alike (PVE::Tools, AbstractConfig). */

export function uniqueTags(value: string): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const t of splitList(value).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))) {
    const l = t.toLowerCase();
    if (seen.has(l)) continue;
    seen.add(l);
    out.push(l);
  }
  return out.join(';');
}

export function nextUnusedKey(props: Record<string, string>): string {
  for (let i = 0; i < 256; i++) if (props[`unused${i}`] === undefined) return `unused${i}`;
  return die('too many unused volumes');
}

/** PVE::Tools::random_ether_addr with the default datacenter prefix BC:24:11. */
export function randomMac(prefix = 'BC:24:11'): string {
  const b = crypto.randomBytes(3);
  return `${prefix}:${[...b].map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join(':')}`;
}

/** A volume that leaves the config stays as the next free unusedN (once). */
export function addUnused(conf: GuestConfig, volid: string): void {
  if (Object.keys(conf.props).some((k) => /^unused\d+$/.test(k) && conf.props[k] === volid)) return;
  conf.props[nextUnusedKey(conf.props)] = volid;
}
