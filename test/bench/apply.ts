/**
 * `npm run bench:apply`: provisions the whole Phoenix seed config on three emulated nodes through
 * real agents and a coordinator, then compares the measured makespan with
 *  - the critical-path lower bound: the longest dependency chain, each guest weighted by the time
 *    its pipeline really took in this run (no schedule can beat it), and
 *  - the sequential time: every guest's pipeline one after another, as Phoenix Hypervisor runs them.
 * Targets: makespan ≤ 1.10 × bound, ≥ 4× faster than sequential. Not a timed test.
 *
 *   npm run bench:apply -- [--time-scale 0.05]
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../harness/agent-process.js';
import { startDemoCluster, type DemoCluster } from '../demo/cluster.js';
import { demoSpec } from '../demo/spec.js';

interface Event {
  type: string;
  guest?: string;
  time: string;
  status?: string;
  message?: string;
}

async function waitForNodes(c: DemoCluster): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const r = await c.cli(['nodes', '--output', 'json']);
    if (r.code === 0) {
      const nodes = (JSON.parse(r.stdout) as { nodes: { status: string; cpu: { cores: number }; storages: unknown[] }[] }).nodes;
      if (nodes.filter((n) => n.status === 'up' && n.cpu.cores > 0 && n.storages.length > 0).length >= 3) return;
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error('nodes did not come up');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'time-scale': { type: 'string', default: '0.05' } } });
  const c = await startDemoCluster({ timeScale: Number(values['time-scale']) });
  try {
    await waitForNodes(c);
    const specFile = await demoSpec(resolve(repoRoot(), 'examples/phoenix'), c, join(c.dir, 'spec.yaml'));
    const planOut = await c.cli(['plan', '--output', 'json', specFile]);
    const plan = JSON.parse(planOut.stdout) as { guests: { id: string; dependsOn: string[] }[] };
    const t0 = Date.now();
    const r = await c.cli(['apply', specFile, '--output', 'json']);
    const wall = (Date.now() - t0) / 1000;
    const events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Event);
    const start = new Map<string, number>();
    const took = new Map<string, number>();
    let first = Infinity;
    let last = 0;
    for (const e of events) {
      const t = Date.parse(e.time) / 1000;
      if (e.type === 'start' && e.guest) start.set(e.guest, t);
      if (e.type === 'done' && e.guest && start.has(e.guest)) took.set(e.guest, t - start.get(e.guest)!);
      if (e.type === 'start') first = Math.min(first, t);
      if (e.type === 'done') last = Math.max(last, t);
    }
    const makespan = last - first;
    const deps = new Map(plan.guests.map((g) => [g.id, g.dependsOn]));
    const memo = new Map<string, number>();
    const chain = (id: string): number => {
      if (memo.has(id)) return memo.get(id)!;
      const v = (took.get(id) ?? 0) + Math.max(0, ...(deps.get(id) ?? []).map(chain));
      memo.set(id, v);
      return v;
    };
    const bound = Math.max(0, ...plan.guests.map((g) => chain(g.id)));
    const sequential = [...took.values()].reduce((a, b) => a + b, 0);
    const row = (k: string, v: string) => console.log(`${k.padEnd(38)} ${v}`);
    console.log(`\napply of the Phoenix seed config on 3 emulated nodes (time scale ${values['time-scale']}, exit ${r.code})`);
    row('guests converged', String(took.size));
    row('apply wall time (CLI)', `${wall.toFixed(1)} s`);
    row('makespan (first start → last done)', `${makespan.toFixed(1)} s`);
    row('critical-path lower bound', `${bound.toFixed(1)} s`);
    row('sequential (sum of pipelines)', `${sequential.toFixed(1)} s`);
    row('makespan / bound', `${(makespan / bound).toFixed(3)}  (target ≤ 1.10: ${makespan / bound <= 1.1 ? 'PASS' : 'FAIL'})`);
    row('speed-up over sequential', `${(sequential / makespan).toFixed(2)}×  (target ≥ 4: ${sequential / makespan >= 4 ? 'PASS' : 'FAIL'})`);
  } finally {
    await c.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
