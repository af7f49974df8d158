/**
 * Agent footprint benchmark: one real agent process on an emulated node with 8 GPUs and 50 guests,
 * telemetry at the default intervals to a real nats-server, sampled once a second from /proc for
 * `--seconds` (default 300): RSS and CPU of the agent, of its long-lived nvidia-smi child and of the
 * whole process tree (the agent, its live children and the children it reaped), and the Proxmox
 * tool spawns per minute by tool from the emulator's call log. Prints a table and the targets
 * (agent RSS ≤ 64 MB, agent CPU ≤ 1% of one core, tree CPU ≤ 1% of one core, at most one Proxmox
 * tool spawn per 10 s) with pass/fail. Not a timed test.
 *
 *   npm run bench -- --seconds 60 [--gpus 8] [--guests 50] [--interval 5] [--guests-interval 10] [--warmup 10]
 *                    [--node-args "--max-semi-space-size=1"]
 *
 * The agent starts with the node flags and environment of deploy/systemd/phoenix-agent.service
 * (`--node-args` replaces the flags to compare settings).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { HEARTBEAT_INTERVAL_SECONDS, TELEMETRY_INTERVAL_SECONDS } from '@phoenix/shared';
import { readCalls, type CallRecord } from '../emulator/src/index.js';
import { AgentProcess, processTree, repoRoot } from '../harness/agent-process.js';
import { createTestPki } from '../harness/certs.js';
import { startSecuredNats } from '../harness/nats.js';

const run = promisify(execFile);
const EMU_BIN = join(repoRoot(), 'test/emulator/bin');
const TEMPLATE_FILE = 'debian-12-standard_12.7-1_amd64.tar.zst';
const UNIT_FILE = join(repoRoot(), 'deploy/systemd/phoenix-agent.service');
const TARGET_RSS_MB = 64;
const TARGET_CPU_PERCENT = 1;
const TARGET_TREE_CPU_PERCENT = 1;
/** At most one Proxmox tool spawn per 10 s in steady state. */
const TARGET_SPAWNS_PER_MINUTE = 6;
/** CPU of one real pvesh/pvesm/pct/qm call: a Perl process loading the PVE modules (0.3–0.5 s). */
const REAL_TOOL_CPU_SECONDS = 0.4;
/** The emulated Proxmox tools; nvidia-smi and zfs are not Perl. */
const PROXMOX_TOOLS = new Set(['pvesh', 'pvesm', 'pct', 'qm', 'pveam']);

interface ProcSample {
  /** utime + stime, clock ticks. */
  cpuTicks: number;
  /** cutime + cstime: CPU of reaped children (the short-lived pct/qm/pvesm calls). */
  childTicks: number;
  rssKb: number;
}

function readProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
    const at = (n: number): number => Number(f[n - 3]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return { cpuTicks: at(14) + at(15), childTicks: at(16) + at(17), rssKb: Number(rss?.[1] ?? 0) };
  } catch {
    return undefined;
  }
}

/**
 * How production starts the agent, read from the systemd unit: the node flags before the script in
 * ExecStart= and the Environment= values, so the benchmark measures the shipped settings.
 */
function productionLaunch(): { nodeArgs: string[]; env: Record<string, string> } {
  const unit = readFileSync(UNIT_FILE, 'utf8');
  const exec = /^ExecStart=(\S+)((?:\s+--?\S+)*)\s+\S+\.js\b/m.exec(unit);
  const nodeArgs = (exec?.[2] ?? '').split(/\s+/).filter(Boolean);
  const env: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment=(\w+)=(\S*)$/gm)) env[m[1]!] = m[2]!;
  return { nodeArgs, env };
}

/**
 * CPU of the agent's whole process tree so far, in clock ticks: the agent's own time, the time of the
 * children it reaped (cutime/cstime) and the time of the descendants still alive. A child alive at
 * one reading and reaped by the next moves from the live sum into cutime, so deltas stay exact.
 */
function treeTicks(pid: number): number | undefined {
  const root = readProc(pid);
  if (!root) return undefined;
  let ticks = root.cpuTicks + root.childTicks;
  for (const child of processTree(pid)) {
    if (child.pid === pid) continue;
    const s = readProc(child.pid);
    if (s) ticks += s.cpuTicks + s.childTicks;
  }
  return ticks;
}

/** What a call is, for counting: the tool and its subcommand, with the API path for pvesh. */
function callLabel(rec: CallRecord): string {
  const words = rec.argv.filter((a) => !a.startsWith('-'));
  const sub = words[0] ?? '';
  if (rec.tool === 'pvesh') return `pvesh ${sub} ${(words[1] ?? '').replace(/\/\d+(?=\/|$)/g, '/<id>')}`;
  if (rec.tool === 'nvidia-smi') return rec.argv.some((a) => a.startsWith('-lms')) ? 'nvidia-smi (long-lived sampler)' : 'nvidia-smi';
  return `${rec.tool} ${sub}`.trim();
}

function samplerPid(agentPid: number): number | undefined {
  return processTree(agentPid).find((p) => p.cmdline.includes('nvidia-smi') && p.cmdline.includes('-lms'))?.pid;
}

interface Series {
  rssKb: number[];
  /** CPU is measured from the first to the last sample of the same pid. */
  first?: ProcSample;
  firstAt?: number;
  last?: ProcSample;
  lastAt?: number;
  lastPid?: number;
  pids: Set<number>;
}

function track(series: Series, pid: number | undefined, now: number): void {
  if (pid === undefined) return;
  const s = readProc(pid);
  if (!s) return;
  series.pids.add(pid);
  series.rssKb.push(s.rssKb);
  if (series.lastPid !== pid) {
    // A restarted sampler counts its CPU afresh.
    series.first = s;
    series.firstAt = now;
  }
  series.last = s;
  series.lastAt = now;
  series.lastPid = pid;
}

function cpuPercent(series: Series, ticksPerSecond: number, field: 'cpuTicks' | 'childTicks' = 'cpuTicks'): number {
  if (!series.first || !series.last || series.firstAt === undefined || series.lastAt === undefined) return NaN;
  const seconds = (series.lastAt - series.firstAt) / 1000;
  if (seconds <= 0) return NaN;
  return ((series.last[field] - series.first[field]) / ticksPerSecond / seconds) * 100;
}

const mb = (kb: number): string => (kb / 1024).toFixed(1);
const avg = (xs: number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '300' },
      gpus: { type: 'string', default: '8' },
      guests: { type: 'string', default: '50' },
      interval: { type: 'string', default: String(TELEMETRY_INTERVAL_SECONDS.node) },
      'guests-interval': { type: 'string', default: String(TELEMETRY_INTERVAL_SECONDS.guests) },
      'storage-interval': { type: 'string', default: String(TELEMETRY_INTERVAL_SECONDS.storage) },
      'heartbeat-interval': { type: 'string', default: String(HEARTBEAT_INTERVAL_SECONDS) },
      warmup: { type: 'string', default: '10' },
      /** Flags for the agent's node process (space-separated), to compare V8 settings. */
      'node-args': { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const gpus = Number(values.gpus);
  const guests = Number(values.guests);
  const interval = Number(values.interval);
  const warmup = Number(values.warmup);
  const guestsInterval = Number(values['guests-interval']);
  const storageInterval = Number(values['storage-interval']);
  const heartbeatInterval = Number(values['heartbeat-interval']);
  for (const [name, v] of Object.entries({ seconds, gpus, guests, interval, guestsInterval, storageInterval, heartbeatInterval, warmup })) {
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number`);
  }
  const ticksPerSecond = Number((await run('getconf', ['CLK_TCK'])).stdout.trim()) || 100;

  const work = await mkdtemp(join(tmpdir(), 'phoenix-bench-'));
  const emuEnv = {
    PVE_EMU_STATE: join(work, 'state'),
    PVE_EMU_NODE: 'bench1',
    PVE_EMU_TIME_SCALE: '0',
    PVE_EMU_GPUS: String(gpus),
  };
  const emu = (tool: string, args: string[]) => run(join(EMU_BIN, tool), args, { env: { ...emuEnv, PATH: process.env['PATH'] ?? '' } });

  process.stderr.write(`seeding an emulated node: ${gpus} GPUs, ${guests} guests ...\n`);
  await emu('pveam', ['download', 'local', TEMPLATE_FILE]);
  for (let i = 0; i < guests; i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, guests - i) }, async (_, j) => {
        const vmid = 200 + i + j;
        await emu('pct', ['create', String(vmid), `local:vztmpl/${TEMPLATE_FILE}`, '--hostname', `ct${vmid}`, '--rootfs', 'local-zfs:4']);
        if (vmid % 2 === 0) await emu('pct', ['start', String(vmid)]);
      }),
    );
  }

  const pki = await createTestPki({ nodes: ['bench1'] });
  const nats = await startSecuredNats({ cluster: 'bench', nodes: ['bench1'] });
  const watcher = await nats.connectAs('coordinator');
  const counts = new Map<string, number>();
  watcher.subscribe('phoenix.>', {
    callback: (_e, m) => {
      const kind = m.subject.startsWith('phoenix.health.') ? 'heartbeat' : (m.subject.split('.').at(-1) ?? '');
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    },
  });
  const launch = productionLaunch();
  const nodeArgs = values['node-args'] !== undefined ? values['node-args'].split(' ').filter(Boolean) : launch.nodeArgs;
  const agent = await AgentProcess.start(
    {
      node: 'bench1',
      cluster: 'bench',
      pki,
      nats: { url: nats.url, credentials: nats.nodeUser('bench1') },
      tools: { binDir: EMU_BIN, env: emuEnv },
      telemetry: { node: interval, gpu: interval, guests: guestsInterval, heartbeat: heartbeatInterval, storage: storageInterval },
      extra: { log: { level: 'info' } },
      nodeArgs,
    },
    launch.env,
  );
  const pid = agent.pid!;
  process.stderr.write(`agent pid ${pid}; warming up ${warmup} s, then sampling for ${seconds} s ...\n`);
  await new Promise((r) => setTimeout(r, warmup * 1000));
  counts.clear();

  const agentSeries: Series = { rssKb: [], pids: new Set() };
  const smiSeries: Series = { rssKb: [], pids: new Set() };
  const started = Date.now();
  const treeStart = treeTicks(pid);
  while (Date.now() - started < seconds * 1000) {
    const now = Date.now();
    track(agentSeries, pid, now);
    track(smiSeries, samplerPid(pid), now);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const ended = Date.now();
  const treeEnd = treeTicks(pid);
  track(agentSeries, pid, ended);
  track(smiSeries, samplerPid(pid), ended);
  // Calls are counted over exactly `seconds` so that a periodic call is counted once per period.
  const windowCalls = readCalls(emuEnv.PVE_EMU_STATE).filter((c) => {
    const t = Date.parse(c.time);
    return t >= started && t < started + seconds * 1000;
  });

  await agent.dispose();
  await watcher.close();
  await nats.dispose();
  await pki.dispose();
  await rm(work, { recursive: true, force: true });

  const agentCpu = cpuPercent(agentSeries, ticksPerSecond);
  const minutes = seconds / 60;
  const treeCpu =
    treeStart === undefined || treeEnd === undefined ? NaN : ((treeEnd - treeStart) / ticksPerSecond / ((ended - started) / 1000)) * 100;
  const byLabel = new Map<string, number>();
  for (const c of windowCalls) byLabel.set(callLabel(c), (byLabel.get(callLabel(c)) ?? 0) + 1);
  const proxmoxCalls = windowCalls.filter((c) => PROXMOX_TOOLS.has(c.tool)).length;
  const spawnsPerMinute = proxmoxCalls / minutes;
  // The emulated tools are Node scripts; a real Proxmox tool is a Perl process with its own cost.
  const realToolCpu = ((spawnsPerMinute * REAL_TOOL_CPU_SECONDS) / 60) * 100;
  const agentRssMax = Math.max(...agentSeries.rssKb);
  const rows: string[][] = [
    ['process', 'RSS avg MB', 'RSS max MB', 'CPU % of one core'],
    ['phoenix-agent', mb(avg(agentSeries.rssKb)), mb(agentRssMax), agentCpu.toFixed(2)],
    [
      `nvidia-smi sampler (${smiSeries.pids.size} pid${smiSeries.pids.size === 1 ? '' : 's'})`,
      mb(avg(smiSeries.rssKb)),
      mb(Math.max(...smiSeries.rssKb)),
      cpuPercent(smiSeries, ticksPerSecond).toFixed(2),
    ],
    ['short-lived tools (reaped children)', '-', '-', cpuPercent(agentSeries, ticksPerSecond, 'childTicks').toFixed(2)],
    ['whole process tree (agent + children)', '-', '-', treeCpu.toFixed(2)],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out: string[] = [];
  out.push(
    `agent footprint: ${gpus} emulated GPUs, ${guests} guests, node/gpu telemetry every ${interval} s (guest list every ${guestsInterval} s, storages every ${storageInterval} s, heartbeat every ${heartbeatInterval} s), ` +
      `${seconds} s sampled (${agentSeries.rssKb.length} samples)\nagent started as in the unit: node ${nodeArgs.join(' ')} …/main.js; environment ${Object.entries(launch.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
  );
  out.push(line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line));
  out.push(
    `messages received in the window: ${[...counts.entries()]
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  out.push(`tool calls in the window, per minute (${windowCalls.length} calls in ${(minutes * 60).toFixed(0)} s):`);
  for (const [label, n] of [...byLabel.entries()].sort((a, b) => b[1] - a[1])) out.push(`  ${(n / minutes).toFixed(2).padStart(7)}  ${label}`);
  const rssOk = agentRssMax / 1024 <= TARGET_RSS_MB;
  const cpuOk = agentCpu <= TARGET_CPU_PERCENT;
  const treeOk = treeCpu <= TARGET_TREE_CPU_PERCENT;
  const spawnsOk = spawnsPerMinute <= TARGET_SPAWNS_PER_MINUTE;
  out.push(`target agent RSS <= ${TARGET_RSS_MB} MB: ${rssOk ? 'PASS' : 'FAIL'} (max ${mb(agentRssMax)} MB)`);
  out.push(`target agent CPU <= ${TARGET_CPU_PERCENT}% of one core: ${cpuOk ? 'PASS' : 'FAIL'} (${agentCpu.toFixed(2)}%)`);
  out.push(`target agent tree CPU <= ${TARGET_TREE_CPU_PERCENT}% of one core: ${treeOk ? 'PASS' : 'FAIL'} (${treeCpu.toFixed(2)}%)`);
  out.push(
    `target Proxmox tool spawns <= ${TARGET_SPAWNS_PER_MINUTE}/min (one per 10 s): ${spawnsOk ? 'PASS' : 'FAIL'} (${spawnsPerMinute.toFixed(2)}/min; ` +
      `at ${REAL_TOOL_CPU_SECONDS} s of CPU per real Perl tool that is ${realToolCpu.toFixed(2)}% of a core on a real node)`,
  );
  out.push('(the tools here are the emulator, Node scripts; real pvesh/pvesm and nvidia-smi have a different footprint)');
  process.stdout.write(`${out.join('\n')}\n`);
  return rssOk && cpuOk && treeOk && spawnsOk ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
