/**
 * `npm run bench:ingest`: one coordinator's view keeper fed by N simulated nodes at 1 Hz (node
 * resources and a heartbeat each, protobuf over a real nats-server). Reports the CPU the keeper's
 * process used and the p50/p99 freshness of the view (publish time → applied). Targets: < 1 core,
 * p99 < 2 s. The publishers run in a child process so their CPU is not counted.
 *
 *   npm run bench:ingest -- [--nodes 5000] [--seconds 20]
 */
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { createLogger, subjects, telemetryv1 } from '@phoenix/shared';
import { ViewKeeper } from '@phoenix/coordinator';
import { startNatsServer } from '../harness/nats-basic.js';

const CLUSTER = 'bench';

async function publisher(url: string, nodes: number, seconds: number): Promise<void> {
  const nc = await connect({ servers: url });
  const names = Array.from({ length: nodes }, (_, i) => `n${String(i).padStart(5, '0')}`);
  const end = Date.now() + seconds * 1000;
  let seq = 0;
  while (Date.now() < end) {
    const tick = Date.now();
    seq++;
    for (const [i, node] of names.entries()) {
      const time = new Date();
      nc.publish(subjects.telemetry(CLUSTER, node, 'node'), telemetryv1.NodeTelemetry.encode({
        cluster: CLUSTER, node, time, seq, cpus: 64, cpuUsage: (i % 100) / 100, load1: 1, load5: 1, load15: 1,
        memoryTotalBytes: 512 * 2 ** 30, memoryUsedBytes: 100 * 2 ** 30, memoryAvailableBytes: 412 * 2 ** 30,
        storages: [{ id: 'local-zfs', type: 'zfspool', content: ['images', 'rootdir'], active: true, shared: false, totalBytes: 2 ** 40, usedBytes: 2 ** 38, availableBytes: 3 * 2 ** 38 }],
        uptimeSeconds: 1000, labels: {}, templates: [],
      }).finish());
      nc.publish(subjects.health(CLUSTER, node), telemetryv1.Heartbeat.encode({ cluster: CLUSTER, node, time, seq, state: 2, agentVersion: 'bench', grpcAddress: `${node}:7443`, runningOperations: 0 }).finish());
      if (i % 500 === 499) await nc.flush();
    }
    await nc.flush();
    await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - tick))));
  }
  await nc.drain();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { nodes: { type: 'string', default: '5000' }, seconds: { type: 'string', default: '20' }, child: { type: 'string' }, url: { type: 'string' } } });
  const nodes = Number(values.nodes);
  const seconds = Number(values.seconds);
  if (values.child) return publisher(values.url!, nodes, seconds);

  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  const keeper = new ViewKeeper(nc, CLUSTER, createLogger({ service: 'bench', level: 'warn' }), 1000);
  const lags: number[] = [];
  // Freshness: how old each node sample is when it is handled on the keeper's connection and loop.
  const sub = nc.subscribe(subjects.telemetryAll(CLUSTER), {
    callback: (_e, msg) => {
      const t = telemetryv1.NodeTelemetry.decode(msg.data).time;
      if (t) lags.push(Date.now() - t.getTime());
    },
  });
  keeper.start();
  const child = fork(process.argv[1]!, ['--child', '1', '--url', server.url, '--nodes', String(nodes), '--seconds', String(seconds)]);
  await new Promise((r) => setTimeout(r, 3000)); // warm-up
  lags.length = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => child.once('exit', r));
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  sub.unsubscribe();
  keeper.stop();
  await nc.drain();
  await server.stop();
  lags.sort((a, b) => a - b);
  const pct = (p: number) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? NaN;
  const cores = (cpu.user + cpu.system) / 1e6 / wall;
  const p99 = pct(0.99) / 1000;
  console.log(`\ntelemetry ingest: ${nodes} nodes at 1 Hz (node + heartbeat), ${wall.toFixed(1)} s measured`);
  console.log(`view nodes                     ${keeper.view.nodes.length}`);
  console.log(`messages applied (node)        ${lags.length}`);
  console.log(`coordinator CPU                ${cores.toFixed(3)} cores  (target < 1: ${cores < 1 ? 'PASS' : 'FAIL'})`);
  console.log(`freshness p50 / p99            ${(pct(0.5) / 1000).toFixed(3)} s / ${p99.toFixed(3)} s  (target p99 < 2 s: ${p99 < 2 ? 'PASS' : 'FAIL'})`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
