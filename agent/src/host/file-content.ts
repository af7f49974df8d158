/**
 * The content of the files host setup edits, from what they hold now. Each keeps every line it
 * does not own, so a second run computes the same text and changes nothing.
 */
import type { agentv1 } from '@phoenix/shared';

/** /etc/subuid, /etc/subgid: adds `user:start:count` for each range no entry of that user covers. */
export function subIdContent(before: string | undefined, ranges: readonly agentv1.SubIdRange[]): string | undefined {
  const lines = splitLines(before);
  const entries = lines.flatMap((l) => {
    const m = /^([^:#\s]+):(\d+):(\d+)\s*$/.exec(l);
    return m ? [{ user: m[1] ?? '', start: Number(m[2]), count: Number(m[3]) }] : [];
  });
  const added: string[] = [];
  for (const r of ranges) {
    const covered = entries.some((e) => e.user === r.user && e.start <= r.start && r.start + r.count <= e.start + e.count);
    if (covered) continue;
    entries.push({ user: r.user, start: r.start, count: r.count });
    added.push(`${r.user}:${r.start}:${r.count}`);
  }
  if (added.length === 0) return before;
  return joinLines([...lines, ...added]);
}

const BEGIN = '# BEGIN phoenix exports (managed by phoenix node setup; edit the spec, not this block)';
const END = '# END phoenix exports';

/**
 * /etc/exports: Phoenix's exports in one managed block, every client with its own copy of the
 * options (`path c1(o) c2(o)`; `path c1,c2(o)` is not two clients to exports(5)). Lines outside the
 * block stay.
 */
export function exportsContent(before: string | undefined, exports: readonly agentv1.NfsExportSpec[]): string {
  const block = [BEGIN, ...exports.map((e) => `${e.path} ${e.clients.map((c) => `${c}(${e.options.join(',')})`).join(' ')}`), END];
  return replaceBlock(before, block);
}

/** /etc/modprobe.d/zfs.conf: the `options zfs zfs_arc_max=` line, other options kept. */
export function modprobeContent(before: string | undefined, arcMaxBytes: string): string {
  const lines = splitLines(before);
  const line = `options zfs zfs_arc_max=${arcMaxBytes}`;
  const i = lines.findIndex((l) => /^\s*options\s+zfs\s+zfs_arc_max=/.test(l));
  if (i >= 0) lines[i] = line;
  else lines.push(line);
  return joinLines(lines);
}

function replaceBlock(before: string | undefined, block: string[]): string {
  const lines = splitLines(before);
  const start = lines.indexOf(BEGIN);
  const end = start >= 0 ? lines.indexOf(END, start) : -1;
  if (start >= 0 && end >= 0) lines.splice(start, end - start + 1, ...block);
  else lines.push(...block);
  return joinLines(lines);
}

function splitLines(text: string | undefined): string[] {
  if (text === undefined || text === '') return [];
  return text.replace(/\n$/, '').split('\n');
}

function joinLines(lines: string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
