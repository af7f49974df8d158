/**
 * `npm run demo`: a three-node Phoenix cluster on this machine. Imports the Phoenix seed config,
 * shows the plan, applies it with live progress, prints where everything landed and the final
 * status, then leaves the cluster running for `phoenix …` until Ctrl-C (or exits with --once).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../harness/agent-process.js';
import { startDemoCluster, type DemoCluster } from './cluster.js';
import { demoSpec } from './spec.js';
import { putOpenShiftSecrets, writeOpenShiftSpec } from './openshift-spec.js';

const say = (text: string): void => void process.stderr.write(`\n\x1b[1m== ${text}\x1b[0m\n`);

async function waitForNodes(cluster: DemoCluster, count: number, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await cluster.cli(['nodes', '--output', 'json']);
    if (r.code === 0) {
      const nodes = (JSON.parse(r.stdout) as { nodes: { status: string; cpu: { cores: number }; storages: unknown[] }[] }).nodes;
      if (nodes.filter((n) => n.status === 'up' && n.cpu.cores > 0 && n.storages.length > 0).length >= count) return;
    }
    if (Date.now() > deadline) throw new Error(`the coordinator did not see ${count} nodes in time: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { once: { type: 'boolean' }, openshift: { type: 'boolean' }, 'time-scale': { type: 'string' } } });
  if (process.getuid?.() !== 0) process.stderr.write('note: the emulated guests are chroots; run the demo as root\n');
  const seedDir = resolve(repoRoot(), 'examples/phoenix');
  if (!existsSync(seedDir)) throw new Error(`seed configs not found at ${seedDir}`);
  say('Starting a three-node cluster (nats-server, emulated Proxmox nodes, agents, coordinator)');
  const cluster = await startDemoCluster({ timeScale: Number(values['time-scale'] ?? 0.02), log: (l) => process.stderr.write(`  ${l}\n`) });
  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      say('Stopping');
      await cluster.teardown().catch(() => undefined);
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  try {
    if (values.openshift) return void (await stop(await openshiftDemo(cluster, values.once === true)));
    say(`Importing the Phoenix seed config (${seedDir})`);
    const specFile = await demoSpec(seedDir, cluster, join(cluster.dir, 'spec.yaml'), (l) => process.stderr.write(`  note: ${l}\n`));
    process.stderr.write(`  spec written to ${specFile}\n`);
    await waitForNodes(cluster, 3);
    say('Nodes');
    await cluster.cli(['nodes', '--context', cluster.contextFile], { inherit: true });
    say('Plan (nothing is changed)');
    await cluster.cli(['plan', specFile], { inherit: true });
    say('Node setup (the hosts themselves)');
    const setup = await cluster.cli(['node', 'setup', '--all', specFile], { inherit: true });
    if (setup.code !== 0) process.stderr.write(`  node setup finished with exit code ${setup.code}\n`);
    say('Apply');
    const t0 = Date.now();
    const applied = await cluster.cli(['apply', specFile], { inherit: true });
    process.stderr.write(`  apply finished with exit code ${applied.code} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    say('Status: desired against observed');
    await cluster.cli(['status'], { inherit: true });
    if (values.once) return void (await stop(applied.code));
    say('The cluster keeps running. In another shell:');
    process.stderr.write(
      `  export PHOENIX_CONTEXT=${cluster.contextFile}\n  npx phoenix nodes\n  npx phoenix status\n  npx phoenix plan ${specFile}\n  npx phoenix explain granite-embedding ${specFile}\n  npx phoenix delete ollama-gpu0 --yes\n\nCtrl-C stops everything.\n`,
    );
    await new Promise(() => undefined);
  } catch (err) {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.stderr.write(`logs are in ${cluster.dir}/logs\n`);
    await stop(1);
  }
}

/** `npm run demo -- --openshift`: one single-node OpenShift cluster, installed with live progress. */
async function openshiftDemo(cluster: DemoCluster, once: boolean): Promise<number> {
  await waitForNodes(cluster, 3);
  say('Storing a (throwaway) pull secret and SSH key in the sealed secret store');
  await putOpenShiftSecrets(cluster);
  const specFile = await writeOpenShiftSpec(join(cluster.dir, 'openshift.yaml'), ['sno']);
  process.stderr.write(`  spec written to ${specFile}\n`);
  say('Plan (nothing is changed)');
  await cluster.cli(['plan', specFile], { inherit: true });
  say('Apply: manifests, agent ISO, upload, VM, install (emulated openshift-install)');
  const t0 = Date.now();
  const applied = await cluster.cli(['apply', specFile], { inherit: true });
  process.stderr.write(`  apply finished with exit code ${applied.code} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  say('OpenShift clusters');
  await cluster.cli(['openshift', 'status'], { inherit: true });
  if (once) return applied.code;
  say('The cluster keeps running. In another shell:');
  process.stderr.write(
    `  export PHOENIX_CONTEXT=${cluster.contextFile}\n  npx phoenix openshift status\n  npx phoenix openshift kubeconfig sno > sno.kubeconfig\n  npx phoenix openshift destroy sno --yes\n\nCtrl-C stops everything.\n`,
  );
  await new Promise(() => undefined);
  return 0;
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
