/**
 * Commands that act on a live cluster through the coordinators: apply, status, delete, destroy,
 * drain, and `plan` without a view file. All read the cluster context from --context or
 * PHOENIX_CONTEXT.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import { buckets, InvalidArgumentError, NotFoundError } from '@phoenix/shared';
import { randomUUID } from 'node:crypto';
import { buildPlan, STEP_SECONDS } from '../../cluster/plan-build.js';
import { contextTls } from '../../cluster/context.js';
import { AgentClient } from '../../agents/index.js';
import { estimateSchedule } from '../../reconcile/estimate.js';
import { readSpecScripts } from '../scripts.js';
import type { PlannedGuest, PlanStep } from '../../reconcile/types.js';
import { submitRequest, specBucket, SPEC_KEY } from '../../cluster/requests.js';
import { nodeKey, nodeRecordSchema } from '../../daemon/view-keeper.js';
import { loadSpecText } from '../../spec/load.js';
import { Allocator } from '../../alloc/index.js';
import { OUTPUT_FORMATS, formatTable, parseFormat, render, type CliIO } from '../io.js';
import { openSession, type ClusterSession } from './cluster-session.js';
import { watchRun } from './run-watch.js';

const contextOption = () => new Option('--context <file>', 'cluster context file (default: $PHOENIX_CONTEXT)');
const outputOption = () => new Option('--output <format>', 'table, json or yaml').choices(OUTPUT_FORMATS).default('table' as const);

async function withSession<T>(path: string | undefined, fn: (s: ClusterSession) => Promise<T>): Promise<T> {
  const session = await openSession(path);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/** `phoenix plan <spec>` against the live cluster: steps per node, makespan and critical path. */
export async function clusterPlan(io: CliIO, specPath: string, opts: { context?: string | undefined; output: string; perNode?: number }): Promise<void> {
  const format = parseFormat(opts.output);
  const { compiled } = loadSpecText(await readFile(specPath, 'utf8'), specPath);
  await withSession(opts.context, async (s) => {
    const scripts = await readSpecScripts(compiled, specPath);
    const { view, addresses } = await s.view();
    const plan = await buildPlan(compiled, view, { limits: { perNode: opts.perNode ?? 4 }, scripts });
    await checkExisting(s, plan.guests, addresses);
    plan.estimate = estimateSchedule(plan.guests, { perNode: opts.perNode ?? 4 });
    const vmid = (n: number): string => (n > 0 ? String(n) : 'new');
    render(io, format, { guests: plan.guests.map(({ spec: _spec, ...g }) => g), unplaced: plan.unplaced, estimate: plan.estimate }, () => {
      const byNode = new Map<string, typeof plan.guests>();
      for (const g of plan.guests) byNode.set(g.node, [...(byNode.get(g.node) ?? []), g]);
      let text = '';
      for (const [node, guests] of [...byNode].sort(([a], [b]) => a.localeCompare(b))) {
        text += `\n${node}\n`;
        for (const g of guests) {
          text += `  ${g.action === 'create' ? '+' : g.action === 'delete' ? '-' : '~'} ${g.id} (${vmid(g.vmid)})${g.dependsOn.length ? `  after ${g.dependsOn.join(', ')}` : ''}\n`;
          for (const st of g.steps) text += `      ${st.name.padEnd(22)} ${st.reason}\n`;
          if (g.action === 'none' && g.steps.length === 0) text += `      (converged: nothing to do)\n`;
        }
      }
      for (const u of plan.unplaced) text += `\n! ${u.guest} cannot be placed: ${u.reason}\n`;
      const e = plan.estimate;
      const count = (a: string) => plan.guests.filter((g) => g.action === a).length;
      text += `\n${count('create')} to create, ${count('update')} to change, ${count('none')} unchanged, ${plan.unplaced.length} unplaceable\n`;
      text += `estimated makespan ${Math.round(e.makespanSeconds)} s (lower bound ${Math.round(e.lowerBoundSeconds)} s, one after another ${Math.round(e.sequentialSeconds)} s)\n`;
      text += `critical path: ${e.criticalPath.join(' → ')}\n`;
      return text;
    });
  });
}

/**
 * For guests that exist, asks their agent for a dry run of the pipeline: the steps that would
 * change something, with the agent's reason (e.g. "cores 2 → 3"). Nothing is changed or journaled.
 */
async function checkExisting(s: ClusterSession, guests: PlannedGuest[], addresses: Map<string, string>): Promise<void> {
  const tls = contextTls(s.ctx);
  const clients = new Map<string, AgentClient>();
  try {
    await Promise.all(
      guests
        .filter((g) => g.action === 'none' && g.spec)
        .map(async (g) => {
          const address = addresses.get(g.node);
          if (!address) return void (g.steps = [{ name: 'converge', reason: 'exists; its agent has not reported an address, not checked', estSeconds: 0 }]);
          let client = clients.get(g.node);
          if (!client) clients.set(g.node, (client = new AgentClient({ node: g.node, address }, { tls, requester: `cli/${s.ctx.name}` })));
          const changes: PlanStep[] = [];
          try {
            await client.ensureGuest(`plan-${randomUUID()}`, g.spec!, (e) => {
              if (e.kind?.$case === 'step' && e.kind.value.changed) changes.push({ name: e.kind.value.step, reason: e.kind.value.message, estSeconds: STEP_SECONDS.configure });
            }, { dryRun: true, deadlineMs: 60_000 });
            g.steps = changes;
            if (changes.length > 0) g.action = 'update';
          } catch (err) {
            g.steps = [{ name: 'converge', reason: `exists; not checked (${err instanceof Error ? err.message : String(err)})`, estSeconds: 0 }];
          }
        }),
    );
  } finally {
    for (const c of clients.values()) c.close();
  }
}

export function registerClusterCommands(program: Command, io: CliIO): void {
  program
    .command('apply')
    .description('make the cluster match a spec: plan, allocate and converge through the agents')
    .argument('<spec>', 'spec file')
    .addOption(contextOption())
    .addOption(new Option('--output <format>', 'table (progress on stderr) or json (events on stdout)').choices(['table', 'json'] as const).default('table' as const))
    .option('--timeout <seconds>', 'give up waiting after this long (the apply goes on)', '3600')
    .addHelpText('after', '\nExit status: 0 converged, 1 failed, 2 invalid spec (nothing changed), 3 partially applied.\n\nExample:\n  phoenix apply cluster.yaml --context ~/.phoenix/lab.yaml\n')
    .action(async (specPath, opts) => {
      const yaml = await readFile(specPath, 'utf8');
      const { compiled } = loadSpecText(yaml, specPath); // invalid specs stop here, before anything is stored
      const files = await readSpecScripts(compiled, specPath);
      await withSession(opts.context, async (s) => {
        const req = await submitRequest(s.store, 'apply', s.ctx.name, { yaml, files });
        io.err(`apply ${req.runId} submitted\n`);
        const summary = await watchRun(s, req.runId, io, { json: opts.output === 'json', timeoutMs: Number(opts.timeout) * 1000 });
        if (opts.output !== 'json') io.out(formatSummary(summary.guests));
      });
    });

  for (const kind of ['delete', 'destroy'] as const) {
    const cmd = program
      .command(kind)
      .description(kind === 'delete' ? 'remove one guest from the cluster and free its VMID, addresses and MAC' : 'remove every guest Phoenix created and free all allocations')
      .addOption(contextOption())
      .option('--yes', 'do not ask (required when stdin is not a terminal)')
      .option('--timeout <seconds>', 'give up waiting after this long', '1800');
    if (kind === 'delete') cmd.argument('<guest>', 'guest name');
    cmd.action(async (...args: unknown[]) => {
      const guest = kind === 'delete' ? (args[0] as string) : undefined;
      const opts = (kind === 'delete' ? args[1] : args[0]) as { context?: string; yes?: boolean; timeout: string };
      if (!opts.yes) throw new InvalidArgumentError('--yes', undefined, `${kind} removes guests; pass --yes to confirm`);
      await withSession(opts.context, async (s) => {
        if (guest) {
          const alloc = await new Allocator(s.store).get(guest);
          if (!alloc) throw new NotFoundError(`no guest named '${guest}' is allocated in this cluster`);
        }
        const req = await submitRequest(s.store, kind, s.ctx.name, guest ? { guest } : {});
        io.err(`${kind} ${req.runId} submitted\n`);
        const summary = await watchRun(s, req.runId, io, { json: false, timeoutMs: Number(opts.timeout) * 1000 });
        io.out(formatSummary(summary.guests));
      });
    });
  }

  program
    .command('status')
    .description('desired state against what the nodes report, guest by guest, with drift per field')
    .addOption(contextOption())
    .addOption(outputOption())
    .action(async (opts) => {
      const format = parseFormat(opts.output);
      await withSession(opts.context, async (s) => {
        const rows = await statusRows(s);
        render(io, format, rows, () =>
          formatTable(
            ['GUEST', 'VMID', 'NODE', 'DESIRED', 'OBSERVED', 'DRIFT'],
            rows.map((r) => [r.guest, r.vmid ? String(r.vmid) : '-', r.node ?? '-', r.desired, r.observed, r.drift.join('; ') || '-']),
          ),
        );
      });
    });

  program
    .command('drain')
    .description('take a node out of scheduling and list the guests that are still on it')
    .argument('<node>', 'node name')
    .addOption(contextOption())
    .option('--undo', 'make the node schedulable again')
    .action(async (node, opts) => {
      await withSession(opts.context, async (s) => {
        const bucket = s.store.bucket(buckets.nodes, nodeRecordSchema);
        const updated = await bucket.update(nodeKey(node), (cur) => {
          if (!cur) throw new NotFoundError(`node '${node}' is not known to the coordinators`);
          return { ...cur.value, drained: !opts.undo };
        });
        const guests = ((updated?.value.view as { guests?: { vmid: number; name?: string; status: string }[] })?.guests ?? []);
        io.out(`${node}: ${opts.undo ? 'schedulable again' : 'drained: no new guests will be placed here'}\n`);
        if (!opts.undo && guests.length > 0) {
          io.out(`still on ${node} (local storage, move or delete them before maintenance):\n`);
          io.out(formatTable(['VMID', 'NAME', 'STATUS'], guests.map((g) => [String(g.vmid), g.name ?? '-', g.status])));
        }
      });
    });
}

interface StatusRow {
  guest: string;
  vmid: number | undefined;
  node: string | undefined;
  desired: string;
  observed: string;
  drift: string[];
}

async function statusRows(s: ClusterSession): Promise<StatusRow[]> {
  const spec = await specBucket(s.store).get(SPEC_KEY);
  if (!spec) throw new NotFoundError('no spec has been applied to this cluster yet');
  const { compiled } = loadSpecText(spec.value.yaml, 'stored spec');
  const { view } = await s.view();
  const allocations = new Map((await new Allocator(s.store).list()).map((a) => [a.guestId, a]));
  return compiled.guests.map((g) => {
    const vmid = g.vmid ?? allocations.get(g.name)?.vmid;
    const node = view.nodes.find((n) => n.guests.some((x) => x.vmid === vmid));
    const obs = node?.guests.find((x) => x.vmid === vmid);
    // Template guests are stopped once their snapshot is taken; everything else runs.
    const wantRunning = !g.snapshotAsTemplate && !(g.source as { convertToTemplate?: boolean }).convertToTemplate;
    const desired = wantRunning ? 'running' : `template (${g.snapshotAsTemplate ?? 'qm template'})`;
    const drift: string[] = [];
    if (obs) {
      if (obs.cores !== g.cores) drift.push(`cores ${obs.cores} → ${g.cores}`);
      if (Math.round(obs.memoryMiB) !== g.memoryMiB) drift.push(`memory ${Math.round(obs.memoryMiB)} → ${g.memoryMiB} MiB`);
      if (wantRunning && obs.status !== 'running' && !obs.template) drift.push(`status ${obs.status} → running`);
      if (g.snapshotAsTemplate && !obs.snapshots.includes(g.snapshotAsTemplate) && obs.snapshots.length > 0) drift.push(`snapshot ${g.snapshotAsTemplate} missing`);
    } else drift.push('missing');
    return { guest: g.name, vmid, node: node?.name, desired, observed: obs ? obs.status : 'absent', drift };
  });
}

function formatSummary(guests: Record<string, { node?: string; vmid?: number; status: string; changed: boolean; error?: string }>): string {
  const rows = Object.entries(guests).map(([id, g]) => [id, g.vmid ? String(g.vmid) : '-', g.node ?? '-', g.status, g.changed ? 'changed' : 'unchanged', g.error ?? '']);
  return formatTable(['GUEST', 'VMID', 'NODE', 'RESULT', 'CHANGE', 'ERROR'], rows.sort((a, b) => a[0]!.localeCompare(b[0]!)));
}
