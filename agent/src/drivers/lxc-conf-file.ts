/**
 * Raw `lxc.*` lines (idmaps, AppArmor profile, cgroup device rules, mount entries) can only be
 * written into the container's config file: the API refuses them. Only the live section (before
 * the first `[snapshot]`/`[pve:pending]` header) is touched, so a CT with snapshots keeps its
 * snapshot sections intact (appending at the end of the file, as the old scripts did, writes into
 * the last snapshot instead). The write is atomic (temp file + rename, which pmxcfs supports) and
 * optimistic: if the file changed while we computed the new text, we start over.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConflictError, InvalidArgumentError, NotFoundError, parseOrThrow, vmidSchema } from '@phoenix/shared';
import type { RawLxcLine } from './parse-config.js';
import type { LxcConfigFile } from './types.js';

const SECTION_RE = /^\[[^\]]+\]\s*$/;
const RAW_RE = /^(lxc\.[A-Za-z0-9_.-]+)\s*[:=]\s?(.*)$/;

export interface LxcConfigFileOptions {
  /** Directory of `<vmid>.conf`. @default "/etc/pve/nodes/<node>/lxc" */
  dir: string;
  /** Counts each write like a mutating tool call. */
  onWrite?: (durationMs: number, ok: boolean) => void;
}

/** Splits a config file into its live section and everything from the first section header on. */
export function splitLiveSection(text: string): { live: string[]; rest: string[] } {
  const lines = text.split('\n');
  const idx = lines.findIndex((l) => SECTION_RE.test(l));
  if (idx < 0) return { live: lines, rest: [] };
  return { live: lines.slice(0, idx), rest: lines.slice(idx) };
}

export function rawLinesOf(text: string): RawLxcLine[] {
  const out: RawLxcLine[] = [];
  for (const line of splitLiveSection(text).live) {
    const m = RAW_RE.exec(line);
    if (m && m[1] !== undefined) out.push({ key: m[1], value: (m[2] ?? '').trim() });
  }
  return out;
}

/** The file text with the live section's raw lines replaced. */
export function replaceRawLines(text: string, lines: readonly RawLxcLine[]): string {
  const { live, rest } = splitLiveSection(text);
  const kept = live.filter((l) => !RAW_RE.test(l));
  while (kept.length > 0 && kept[kept.length - 1]?.trim() === '') kept.pop();
  for (const l of lines) kept.push(`${l.key}: ${l.value}`);
  const out = [...kept];
  if (rest.length > 0) out.push('', ...rest);
  let joined = out.join('\n');
  if (!joined.endsWith('\n')) joined += '\n';
  return joined;
}

export class LxcConfigFileEditor implements LxcConfigFile {
  constructor(private readonly opts: LxcConfigFileOptions) {}

  private path(vmid: number): string {
    return join(this.opts.dir, `${parseOrThrow(vmidSchema, vmid, 'vmid')}.conf`);
  }

  private async read(vmid: number): Promise<string> {
    try {
      return await readFile(this.path(vmid), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new NotFoundError(`Configuration file '${this.path(vmid)}' does not exist`, { cause: err });
      }
      throw err;
    }
  }

  async readRaw(vmid: number): Promise<RawLxcLine[]> {
    return rawLinesOf(await this.read(vmid));
  }

  async writeRaw(vmid: number, lines: readonly RawLxcLine[]): Promise<void> {
    for (const l of lines) {
      if (!/^lxc\.[A-Za-z0-9_.-]+$/.test(l.key) || /[\n\0]/.test(l.value)) {
        throw new InvalidArgumentError('raw_lxc', `${l.key}: ${l.value}`, 'must be one lxc.<key>: <value> line');
      }
    }
    const started = performance.now();
    const file = this.path(vmid);
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = await this.read(vmid);
      const next = replaceRawLines(before, lines);
      if (next === before) return;
      const tmp = `${file}.tmp.${process.pid}.${randomBytes(4).toString('hex')}`;
      await writeFile(tmp, next, { mode: 0o640 });
      const now = await this.read(vmid).catch(() => undefined);
      if (now !== before) {
        await unlink(tmp).catch(() => undefined);
        continue;
      }
      try {
        await rename(tmp, file);
      } catch (err) {
        await unlink(tmp).catch(() => undefined);
        this.opts.onWrite?.(performance.now() - started, false);
        throw err;
      }
      this.opts.onWrite?.(performance.now() - started, true);
      return;
    }
    this.opts.onWrite?.(performance.now() - started, false);
    throw new ConflictError(`config of ${vmid} kept changing while its raw lxc lines were written; retry`);
  }
}
