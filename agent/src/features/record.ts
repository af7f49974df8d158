/**
 * What Phoenix installed in a guest, recorded in the guest's own description as one hidden
 * Markdown comment line (the GUI's Notes panel does not render it):
 *
 *   <!-- phoenix:installed base_setup@1a2b3c4d nvidia@5e6f7a8b app@9c0d1e2f health@3a4b5c6d -->
 *
 * Why the description: it is readable while the guest is stopped (`pct config`), it is copied by
 * clones, so a child knows what its template layer already has before it exists (dependency
 * checks happen before anything changes), and a converged guest needs no call into the guest to
 * know its features are there. Each entry carries a digest of the parameters it ran with; a
 * feature whose parameters changed runs again (its script's own check decides what to do).
 */
import { createHash } from 'node:crypto';

const RECORD_RE = /^<!-- phoenix:installed ?(.*?) ?-->$/;

export type InstalledRecord = Map<string, string>;

/** Splits a description into the people's text and Phoenix's record. */
export function splitDescription(description: string): { human: string; record: InstalledRecord } {
  const lines = description.replace(/\r/g, '').split('\n');
  const record: InstalledRecord = new Map();
  const kept: string[] = [];
  for (const line of lines) {
    const m = RECORD_RE.exec(line.trim());
    if (!m) {
      kept.push(line);
      continue;
    }
    for (const token of (m[1] ?? '').split(/\s+/)) {
      const at = token.lastIndexOf('@');
      if (at > 0) record.set(token.slice(0, at), token.slice(at + 1));
    }
  }
  while (kept.length > 0 && kept[kept.length - 1]?.trim() === '') kept.pop();
  return { human: kept.join('\n'), record };
}

export function composeDescription(human: string, record: InstalledRecord): string {
  const text = human.replace(/\s+$/, '');
  if (record.size === 0) return text;
  const entries = [...record].map(([k, v]) => `${k}@${v}`).join(' ');
  const line = `<!-- phoenix:installed ${entries} -->`;
  return text === '' ? line : `${text}\n${line}`;
}

/** Short stable digest of a JSON-able value (sorted keys). */
export function digest(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex').slice(0, 8);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
