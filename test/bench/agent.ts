/**
 * Agent footprint benchmark: one real agent process on an emulated node with 8 GPUs and 50 guests,
 * telemetry at 1 Hz to a real nats-server, sampled once a second from /proc for `--seconds`
 * (default 300): RSS and CPU of the agent and of its long-lived nvidia-smi child. Prints a table and
 * the targets (agent RSS ≤ 64 MB, agent CPU ≤ 1% of one core) with pass/fail. Not a timed test.
 *
 *   npm run bench -- --seconds 60 [--gpus 8] [--guests 50] [--interval 1] [--guests-interval 1] [--warmup 10]
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
import { AgentProcess, processTree, repoRoot } from '../harness/agent-process.js';
import { createTestPki } from '../harness/certs.js';
import { startSecuredNats } from '../harness/nats.js';

const run = promisify(execFile);
const EMU_BIN = join(repoRoot(), 'test/emulator/bin');
const TEMPLATE_FILE = 'debian-12-standard_12.7-1_amd64.tar.zst';
const UNIT_FILE = join(repoRoot(), 'deploy/systemd/phoenix-agent.service');
const TARGET_RSS_MB = 64;
const TARGET_CPU_PERCENT = 1;

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
      interval: { type: 'string', default: '1' },
      'guests-interval': { type: 'string' },
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
  const guestsInterval = Number(values['guests-interval'] ?? interval);
  for (const [name, v] of Object.entries({ seconds, gpus, guests, interval, guestsInterval, warmup })) {
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
      telemetry: { node: interval, gpu: interval, guests: guestsInterval, heartbeat: interval, storage: 60 },
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
  while (Date.now() - started < seconds * 1000) {
    const now = Date.now();
    track(agentSeries, pid, now);
    track(smiSeries, samplerPid(pid), now);
    await new Promise((r) => setTimeout(r, 1000));
  }
  track(agentSeries, pid, Date.now());
  track(smiSeries, samplerPid(pid), Date.now());

  await agent.dispose();
  await watcher.close();
  await nats.dispose();
  await pki.dispose();
  await rm(work, { recursive: true, force: true });

  const agentCpu = cpuPercent(agentSeries, ticksPerSecond);
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
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out: string[] = [];
  out.push(
    `agent footprint: ${gpus} emulated GPUs, ${guests} guests, telemetry every ${interval} s (guest list every ${guestsInterval} s, storages every 60 s), ` +
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
  const rssOk = agentRssMax / 1024 <= TARGET_RSS_MB;
  const cpuOk = agentCpu <= TARGET_CPU_PERCENT;
  out.push(`target agent RSS <= ${TARGET_RSS_MB} MB: ${rssOk ? 'PASS' : 'FAIL'} (max ${mb(agentRssMax)} MB)`);
  out.push(`target agent CPU <= ${TARGET_CPU_PERCENT}% of one core: ${cpuOk ? 'PASS' : 'FAIL'} (${agentCpu.toFixed(2)}%)`);
  out.push('(the nvidia-smi here is the emulator, a Node script; a real nvidia-smi has a different footprint)');
  process.stdout.write(`${out.join('\n')}\n`);
  return rssOk && cpuOk ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
