import fs from 'node:fs';
import type { Ctx } from '../core/ctx.js';
import { loadZfs, mountpointOf } from '../zfs/model.js';
import { hostFile, readHostFile, writeHostFile } from './host-files.js';

/**
 * `exportfs` (nfs-utils): `-r`/`-a` reads /etc/exports (and /etc/exports.d/*.exports) into the
 * export table /var/lib/nfs/etab; `-v` lists it. An entry whose directory does not exist is
 * reported ("Failed to stat") and left out, as exportfs does.
 */

interface Entry {
  path: string;
  client: string;
  options: string;
}

function parseExports(text: string): Entry[] {
  const out: Entry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [path = '', ...clients] = line.split(/\s+/);
    for (const c of clients) {
      const m = /^([^(]*)(?:\(([^)]*)\))?$/.exec(c);
      out.push({ path, client: m?.[1] || '*', options: m?.[2] ?? 'ro' });
    }
  }
  return out;
}

export function exportfsMain(ctx: Ctx, argv: string[]): Promise<number> {
  const flags = new Set(argv.filter((a) => a.startsWith('-')).flatMap((a) => a.slice(1).split('')));
  if (flags.has('r') || flags.has('a')) {
    let text = readHostFile(ctx.state, '/etc/exports') ?? '';
    const dDir = hostFile(ctx.state, '/etc/exports.d');
    if (fs.existsSync(dDir)) for (const f of fs.readdirSync(dDir).filter((x) => x.endsWith('.exports')).sort()) text += fs.readFileSync(`${dDir}/${f}`, 'utf8');
    // A mounted ZFS file system is a directory too.
    const z = loadZfs(ctx.state);
    const mounted = new Set(Object.entries(z.datasets).filter(([, d]) => d.type === 'filesystem').map(([n]) => mountpointOf(z, n)));
    const entries = parseExports(text).filter((e) => {
      if (mounted.has(e.path) || fs.existsSync(hostFile(ctx.state, e.path))) return true;
      ctx.stderr(`exportfs: Failed to stat ${e.path}: No such file or directory\n`);
      return false;
    });
    writeHostFile(ctx.state, '/var/lib/nfs/etab', entries.map((e) => `${e.path}\t${e.client}(${e.options})\n`).join(''));
  }
  if (flags.has('v') || argv.length === 0) {
    const etab = parseExports((readHostFile(ctx.state, '/var/lib/nfs/etab') ?? '').replace(/\t/g, ' '));
    ctx.out(etab.map((e) => `${e.path.padEnd(15)}\t${e.client}(${e.options})\n`).join(''));
  }
  return Promise.resolve(0);
}
