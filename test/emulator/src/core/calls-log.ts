import { resolveCmd } from './cli-args.js';
import fs from 'node:fs';
import path from 'node:path';

/** One line of `$PVE_EMU_STATE/calls.log`. */
export interface CallRecord {
  /** ISO time the invocation started. */
  time: string;
  tool: string;
  argv: string[];
  exitCode: number;
  durationMs: number;
  node: string;
  pid: number;
}

export function appendCall(logFile: string, rec: CallRecord): void {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  // One write() per line with O_APPEND: concurrent invocations never interleave within a line.
  fs.appendFileSync(logFile, `${JSON.stringify(rec)}\n`);
}

export function readCalls(logFile: string): CallRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(logFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as CallRecord);
}

/** Subcommands that change state; used to count "mutating" calls. */
const READ_ONLY: Record<string, RegExp> = {
  pct: /^(list|config|status|listsnapshot|pending|df|help|cpusets)$/,
  qm: /^(list|config|status|listsnapshot|pending|showcmd|help|agent|wait|terminal)$/,
  pvesh: /^(get|ls|usage|help)$/,
  pvesm: /^(status|list|path|apiinfo|scan|help|nfsscan|cifsscan|iscsiscan|lvmscan|lvmthinscan|zfsscan)$/,
  pveam: /^(available|list|help)$/,
  zfs: /^(list|get|help)$/,
  zpool: /^(list|status|get|help|iostat)$/,
  'nvidia-smi': /.*/,
  lsblk: /.*/,
};

/** True when the call may have changed node state (abbreviated subcommands are resolved first). */
export function isMutating(rec: Pick<CallRecord, 'tool' | 'argv'>): boolean {
  // exportfs changes the export table with -r/-a/-u/-f or a host:/path argument; -v only lists it.
  if (rec.tool === 'exportfs') return rec.argv.some((a) => /^-[a-z]*[rauf]/.test(a) || !a.startsWith('-'));
  const re = READ_ONLY[rec.tool];
  if (!re) return true;
  let sub = rec.argv.find((a) => !a.startsWith('-')) ?? '';
  if (['pct', 'qm', 'pvesm', 'pveam'].includes(rec.tool)) {
    const words = resolveCmd(rec.tool, rec.argv).cmdStr.split(' ').slice(1);
    sub = words[0] ?? sub;
    if (rec.tool === 'qm' && sub === 'guest') return words[1] !== 'cmd' || rec.argv.includes('ping') === false;
    if (rec.tool === 'qm' && sub === 'cloudinit') return words[1] === 'update';
  }
  return !re.test(sub);
}
