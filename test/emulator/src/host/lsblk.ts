import type { Ctx } from '../core/ctx.js';
import { findDisk, loadDisks, partitionPath, type InitDisk } from './disks.js';

/**
 * `lsblk` (util-linux) over the declared disks: `--json`, `--paths`, `--output` with the columns
 * PATH, NAME, TYPE, FSTYPE, PTTYPE, LABEL, SIZE, `--bytes`. A name that is no block device prints
 * "lsblk: <name>: not a block device"; when none of the named devices exists lsblk exits 32.
 */

const COLUMNS = new Set(['PATH', 'NAME', 'TYPE', 'FSTYPE', 'PTTYPE', 'LABEL', 'SIZE']);

type Row = Record<string, string | number | null | Row[]>;

export function lsblkMain(ctx: Ctx, argv: string[]): Promise<number> {
  let json = false;
  let paths = false;
  let bytes = false;
  let cols = ['NAME', 'TYPE', 'SIZE'];
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--json' || a === '-J') json = true;
    else if (a === '--paths' || a === '-p') paths = true;
    else if (a === '--bytes' || a === '-b') bytes = true;
    else if (a === '--output' || a === '-o') cols = (argv[++i] ?? '').split(',').map((c) => c.toUpperCase());
    else if (a.startsWith('--output=')) cols = a.slice(9).split(',').map((c) => c.toUpperCase());
    else if (a.startsWith('-')) {
      ctx.stderr(`lsblk: unrecognized option '${a}'\nTry 'lsblk --help' for more information.\n`);
      return Promise.resolve(1);
    } else names.push(a);
  }
  for (const c of cols) {
    if (!COLUMNS.has(c)) {
      ctx.stderr(`lsblk: unknown column: ${c}\n`);
      return Promise.resolve(1);
    }
  }
  const state = loadDisks(ctx.state) ?? { disks: [] };
  const found: InitDisk[] = [];
  for (const n of names.length > 0 ? names : state.disks.map((d) => d.device)) {
    const d = findDisk(state, n);
    if (d) found.push(d);
    else ctx.stderr(`lsblk: ${n}: not a block device\n`);
  }
  const name = (p: string): string => (paths ? p : p.replace(/^\/dev\//, ''));
  const size = (n: number): string | number => (bytes || json ? n : `${Math.round(n / 1024 ** 3)}G`);
  const row = (path: string, type: string, s: number, fstype?: string, pttype?: string, label?: string): Row => {
    const r: Row = {};
    for (const c of cols) {
      const v =
        c === 'PATH' ? path : c === 'NAME' ? name(path) : c === 'TYPE' ? type : c === 'SIZE' ? size(s) : c === 'FSTYPE' ? fstype : c === 'PTTYPE' ? pttype : label;
      r[c.toLowerCase()] = v ?? null;
    }
    return r;
  };
  const devices = found.map((d) => {
    const total = d.sizeBytes ?? 2 * 1024 ** 4;
    const r = row(d.device, 'disk', total, d.fstype, d.pttype, d.label);
    const parts = (d.partitions ?? []).map((p, i) => row(partitionPath(d.device, i + 1), 'part', Math.floor(total / (d.partitions?.length ?? 1)), p.fstype, d.pttype, p.label));
    if (parts.length > 0) r['children'] = parts;
    return r;
  });
  if (json) ctx.out(`${formatJson({ blockdevices: devices })}\n`);
  else if (devices.length > 0) {
    const lines = [cols.join(' ')];
    const flat = (r: Row, prefix: string): void => {
      lines.push(prefix + cols.map((c) => String(r[c.toLowerCase()] ?? '')).join(' '));
      for (const ch of (r['children'] as Row[] | undefined) ?? []) flat(ch, '└─');
    };
    for (const d of devices) flat(d, '');
    ctx.out(`${lines.join('\n')}\n`);
  }
  if (found.length === 0 && names.length > 0) return Promise.resolve(32);
  return Promise.resolve(found.length < names.length ? 64 : 0);
}

/** util-linux's JSON layout: three-space indents, one member per line. */
function formatJson(value: unknown, indent = ''): string {
  const next = `${indent}   `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => next + formatJson(v, next)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{\n${entries.map(([k, v]) => `${next}"${k}": ${formatJson(v, next)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}
