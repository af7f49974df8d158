import type { State } from '../core/state.js';
import { loadedProfiles } from './apparmor.js';
import { readHostFile } from './host-files.js';

/**
 * What lxc-start checks on the host before a container runs, with LXC's own error lines: the
 * AppArmor profile must be loaded (lsm/apparmor.c), and with newuidmap installed (it is on PVE)
 * every id mapping must lie inside one of root's /etc/subuid and /etc/subgid ranges (conf.c
 * lxc_map_ids, shadow's newuidmap message). Returns the error lines, empty when the start may go on.
 */

const UNCONFINED = new Set(['unconfined', 'generated']);
const DEFAULT_MAP: IdMap[] = [
  { kind: 'u', inside: 0, outside: 100000, count: 65536 },
  { kind: 'g', inside: 0, outside: 100000, count: 65536 },
];

interface IdMap {
  kind: 'u' | 'g';
  inside: number;
  outside: number;
  count: number;
}

export function lxcStartErrors(state: State, vmid: number, props: Record<string, string>, lxc: Array<[string, string]>): string[] {
  const pfx = `lxc-start: ${vmid}: `;
  const profile = lxc.find(([k]) => k === 'lxc.apparmor.profile')?.[1];
  if (profile !== undefined && !UNCONFINED.has(profile) && !loadedProfiles(state).has(profile)) {
    return [
      `${pfx}../src/lxc/lsm/apparmor.c: apparmor_process_label_set_at: 1171 No such file or directory - Failed to change AppArmor profile to ${profile}`,
      `${pfx}../src/lxc/sync.c: sync_wait: 34 An error occurred in another process (expected sequence number 7)`,
      `${pfx}../src/lxc/start.c: __lxc_start: 2114 Failed to spawn container "${vmid}"`,
    ];
  }
  const unprivileged = props['unprivileged'] === '1';
  const custom = lxc.filter(([k]) => k === 'lxc.idmap').map(([, v]) => parseIdMap(v)).filter((m): m is IdMap => m !== undefined);
  const maps = custom.length > 0 ? custom : unprivileged ? DEFAULT_MAP : [];
  for (const kind of ['u', 'g'] as const) {
    const mine = maps.filter((m) => m.kind === kind);
    if (mine.length === 0) continue;
    const ranges = subIds(state, kind === 'u' ? '/etc/subuid' : '/etc/subgid');
    const bad = mine.find((m) => !ranges.some((r) => r.start <= m.outside && m.outside + m.count <= r.start + r.count));
    if (!bad) continue;
    const tool = kind === 'u' ? 'newuidmap' : 'newgidmap';
    const word = kind === 'u' ? 'uid' : 'gid';
    const pid = 4000 + vmid;
    const argsText = mine.map((m) => `${m.inside} ${m.outside} ${m.count}`).join(' ');
    return [
      `${pfx}../src/lxc/conf.c: lxc_map_ids: 3701 ${tool} failed to write mapping "${tool}: ${word} range [${bad.inside}-${bad.inside + bad.count}) -> [${bad.outside}-${bad.outside + bad.count}) not allowed": ${tool} ${pid} ${argsText}`,
      `${pfx}../src/lxc/start.c: lxc_spawn: 1791 Failed to set up id mapping.`,
      `${pfx}../src/lxc/start.c: __lxc_start: 2114 Failed to spawn container "${vmid}"`,
    ];
  }
  return [];
}

function parseIdMap(v: string): IdMap | undefined {
  const m = /^([ug])\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(v.trim());
  return m ? { kind: m[1] as 'u' | 'g', inside: Number(m[2]), outside: Number(m[3]), count: Number(m[4]) } : undefined;
}

function subIds(state: State, file: string): Array<{ start: number; count: number }> {
  return (readHostFile(state, file) ?? '').split('\n').flatMap((l) => {
    const m = /^root:(\d+):(\d+)$/.exec(l.trim());
    return m ? [{ start: Number(m[1]), count: Number(m[2]) }] : [];
  });
}
