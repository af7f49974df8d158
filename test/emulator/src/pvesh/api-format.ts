import type { PropSchema } from '../core/schema.js';
import { perlJson } from '../core/perl-json.js';

/** PVE::CLIFormatter::print_api_result for the text format (box-drawn tables). */

function renderValue(v: unknown, pd: PropSchema | undefined, human: boolean): string {
  if (v === undefined || v === null) return '';
  if (human && pd) {
    if (pd.type === 'boolean') return v ? '1' : '0';
    const r = pd['renderer'];
    if (typeof v === 'number') {
      if (r === 'bytes') return renderBytes(v);
      if (r === 'fraction_as_percentage') return `${(v * 100).toFixed(2)}%`;
      if (r === 'duration') return renderDuration(v);
      if (r === 'timestamp') return new Date(v * 1000).toString();
    }
  }
  if (typeof v === 'object') return perlJson(v);
  return String(v);
}

export function renderBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(2)} ${units[i] ?? ''}`;
}

function renderDuration(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  const parts: string[] = [];
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  parts.push(`${sec}s`);
  return parts.join(' ');
}

export interface TableOptions {
  noborder?: boolean;
  noheader?: boolean;
  human?: boolean;
  utf8?: boolean;
}

export function textTable(rows: Array<Record<string, unknown>>, props: string[], schema: Record<string, PropSchema>, o: TableOptions): string {
  const sortKey = props[0];
  if (sortKey) {
    const numeric = schema[sortKey]?.type === 'integer' || schema[sortKey]?.type === 'number';
    rows = [...rows].sort((a, b) => {
      const x = a[sortKey];
      const y = b[sortKey];
      if (x === undefined) return y === undefined ? 0 : -1;
      if (y === undefined) return 1;
      return numeric ? Number(x) - Number(y) : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
    });
  }
  const cells = rows.map((r) => props.map((p) => renderValue(r[p], schema[p], o.human !== false).split('\n')));
  const widths = props.map((p, i) => Math.max(p.length, ...cells.map((c) => Math.max(...(c[i] ?? ['']).map((l) => l.length)))));
  const right = props.map((p) => schema[p]?.type === 'integer' || schema[p]?.type === 'number');
  const fmt = (vals: string[]): string => {
    if (o.noborder) return vals.map((v, i) => (i === vals.length - 1 ? v : right[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0))).join(' ');
    const bar = o.utf8 ? '│' : '|';
    return `${vals.map((v, i) => `${bar} ${right[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)} `).join('')}${bar}`;
  };
  const line = (l: string, m: string, r: string, h: string): string => `${l}${widths.map((w) => h.repeat(w + 2)).join(m)}${r}`;
  const u = o.utf8;
  const top = u ? line('┌', '┬', '┐', '─') : line('+', '+', '+', '-');
  const head = u ? line('╞', '╪', '╡', '═') : line('+', '+', '+', '=');
  const mid = u ? line('├', '┼', '┤', '─') : line('+', '+', '+', '-');
  const bot = u ? line('└', '┴', '┘', '─') : line('+', '+', '+', '-');
  const out: string[] = [];
  if (!o.noborder) out.push(top);
  if (!o.noheader) out.push(fmt(props));
  cells.forEach((c, i) => {
    if (!o.noborder && (i !== 0 || !o.noheader)) out.push(i === 0 ? head : mid);
    const height = Math.max(...c.map((x) => x.length));
    for (let l = 0; l < height; l++) out.push(fmt(c.map((x) => x[l] ?? '')));
  });
  if (!o.noborder) out.push(bot);
  return out.map((l) => `${l}\n`).join('');
}

/** Prints an API result in the requested output format. */
export function printApiResult(data: unknown, returns: (PropSchema & { items?: PropSchema; properties?: Record<string, PropSchema> }) | undefined, format: string, o: TableOptions): string {
  if (format === 'json') return `${perlJson(data)}\n`;
  if (format === 'json-pretty') return `${perlJson(data, true)}\n`;
  if (format === 'yaml') return toYaml(data);
  const type = returns?.type ?? (Array.isArray(data) ? 'array' : typeof data === 'object' && data !== null ? 'object' : 'string');
  if (type === 'null') return '';
  if (type === 'object' && data && typeof data === 'object' && !Array.isArray(data)) {
    const obj = data as Record<string, unknown>;
    const schema = returns?.properties ?? {};
    let props = Object.keys(schema).filter((k) => !schema[k]?.optional).sort().concat(Object.keys(schema).filter((k) => schema[k]?.optional).sort());
    if (!props.length) props = Object.keys(obj).sort();
    const rows = props.filter((k) => obj[k] !== undefined).map((k) => ({ key: k, value: renderValue(obj[k], schema[k], o.human !== false) }));
    return textTable(rows, ['key', 'value'], {}, o);
  }
  if (type === 'array' && Array.isArray(data)) {
    if (!data.length) return '';
    if (typeof data[0] !== 'object') return data.map((v) => `${String(v)}\n`).join('');
    const schema = (returns?.items as { properties?: Record<string, PropSchema> } | undefined)?.properties ?? {};
    let props = Object.keys(schema).filter((k) => !schema[k]?.optional).sort().concat(Object.keys(schema).filter((k) => schema[k]?.optional).sort());
    if (!props.length) props = [...new Set(data.flatMap((r) => Object.keys(r as object)))].sort();
    return textTable(data as Array<Record<string, unknown>>, props, schema, o);
  }
  if (data === undefined || data === null) return '';
  return `${typeof data === 'object' ? perlJson(data) : String(data)}\n`;
}

function toYaml(data: unknown, indent = ''): string {
  if (Array.isArray(data)) {
    if (!data.length) return `${indent}[]\n`;
    return data.map((v) => (typeof v === 'object' && v !== null ? `${indent}- ${toYaml(v, `${indent}  `).trimStart()}` : `${indent}- ${String(v)}\n`)).join('');
  }
  if (data && typeof data === 'object') {
    return Object.keys(data)
      .sort()
      .map((k) => {
        const v = (data as Record<string, unknown>)[k];
        return typeof v === 'object' && v !== null ? `${indent}${k}:\n${toYaml(v, `${indent}  `)}` : `${indent}${k}: ${String(v)}\n`;
      })
      .join('');
  }
  return `${String(data)}\n`;
}
