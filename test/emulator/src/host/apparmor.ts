import fs from 'node:fs';
import type { Ctx } from '../core/ctx.js';
import type { State } from '../core/state.js';
import { APPARMOR_PROFILES_FILE, readHostFile, toNodePath, writeHostFile } from './host-files.js';

/**
 * `apparmor_parser` loading policy into the emulated kernel: `-r` (replace or load), `-a` (add),
 * `-R` (remove), `-W`/`-K` (cache, accepted). Loaded profiles are listed, one `name (mode)` per line,
 * in /sys/kernel/security/apparmor/profiles as the kernel does.
 */

export function loadedProfiles(state: State): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of (readHostFile(state, APPARMOR_PROFILES_FILE) ?? '').split('\n')) {
    const m = /^(.+?) \((\w+)\)$/.exec(line);
    if (m?.[1]) out.set(m[1], m[2] ?? 'enforce');
  }
  return out;
}

/** `profile <name> [flags=(...)] {` declarations of a policy file. */
function declaredProfiles(text: string): string[] | undefined {
  const names = [...text.matchAll(/^\s*profile\s+([^\s{]+)(?:\s+flags=\(([^)]*)\))?\s*\{/gm)].map((m) => m[1] ?? '');
  const opens = (text.match(/\{/g) ?? []).length;
  const closes = (text.match(/\}/g) ?? []).length;
  return opens === closes && names.length > 0 ? names : undefined;
}

export function apparmorParserMain(ctx: Ctx, argv: string[]): Promise<number> {
  let mode: 'replace' | 'add' | 'remove' = 'add';
  const files: string[] = [];
  for (const a of argv) {
    if (a === '-r' || a === '--replace') mode = 'replace';
    else if (a === '-a' || a === '--add') mode = 'add';
    else if (a === '-R' || a === '--remove') mode = 'remove';
    else if (['-W', '--write-cache', '-K', '--skip-cache', '-T', '--skip-read-cache', '-q', '--quiet'].includes(a)) continue;
    else if (a.startsWith('-')) {
      ctx.stderr(`apparmor_parser: invalid option -- '${a.replace(/^-+/, '')}'\n`);
      return Promise.resolve(1);
    } else files.push(a);
  }
  const loaded = loadedProfiles(ctx.state);
  let code = 0;
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file.startsWith(ctx.state.file('host')) ? file : ctx.state.file('host', toNodePath(ctx.state, file)), 'utf8');
    } catch {
      ctx.stderr(`File ${file} not found, skipping...\n`);
      code = 1;
      continue;
    }
    const names = declaredProfiles(text);
    if (!names) {
      ctx.stderr(`AppArmor parser error for ${file} in profile ${file} at line 1: syntax error, unexpected $end\n`);
      code = 1;
      continue;
    }
    for (const name of names) {
      if (mode === 'remove') loaded.delete(name);
      else if (mode === 'add' && loaded.has(name)) {
        ctx.stderr(`apparmor_parser: Unable to add "${name}".  Profile already exists\n`);
        code = 1;
      } else loaded.set(name, /flags=\([^)]*complain/.test(text) ? 'complain' : 'enforce');
    }
  }
  writeHostFile(ctx.state, APPARMOR_PROFILES_FILE, [...loaded].map(([n, m]) => `${n} (${m})\n`).join(''));
  return Promise.resolve(code);
}
