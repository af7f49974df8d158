/** `phoenix openshift …`: see commands/openshift.ts. */
import { InvalidArgumentError, NotFoundError } from '@phoenix/shared';
import { requestReveal, type RevealField } from '../../secrets/index.js';
import { OPENSHIFT_CLUSTER_NAME as CLUSTER_NAME } from '../../spec/openshift.js';
import { readOpenShiftRecords } from '../../state/index.js';
import { formatTable, parseFormat, render, type CliIO } from '../io.js';
import { openSession, withSession } from './cluster-session.js';
import { submitRequest } from '../../requests/index.js';
import { formatSummary, watchRun } from './run-watch.js';

export async function openshiftStatus(io: CliIO, cluster: string | undefined, opts: { context?: string | undefined; output: string }): Promise<void> {
  const format = parseFormat(opts.output);
  if (cluster !== undefined && !CLUSTER_NAME.test(cluster)) throw new InvalidArgumentError('cluster', cluster, 'cluster names are lower-case DNS labels');
  const s = await openSession(opts.context);
  try {
    const records = [...(await readOpenShiftRecords(s.store)).values()].filter((r) => cluster === undefined || r.cluster === cluster);
    if (cluster !== undefined && records.length === 0) throw new NotFoundError(`no OpenShift cluster named ${cluster} has been installed here`);
    const rows = records.map((r) => ({
      cluster: r.cluster,
      state: r.state,
      stage: r.stage ?? '',
      nodes: r.nodes,
      console: r.consoleUrl ?? '',
      api: r.apiUrl ?? '',
      credentials: r.credentials ? `${r.credentials.store}:${r.credentials.path}` : '',
      ...(r.error ? { error: r.error } : {}),
      updatedAt: r.updatedAt,
    }));
    await render(io, format, { clusters: rows }, () =>
      formatTable(
        ['CLUSTER', 'STATE', 'STAGE', 'NODES', 'CONSOLE'],
        rows.map((r) => [r.cluster, r.state, r.error ? `${r.stage} (${r.error})` : r.stage || '-', r.nodes.join(',') || '-', r.console || '-']),
      ),
    );
  } finally {
    await s.close();
  }
}

export async function reveal(io: CliIO, cluster: string, field: RevealField, opts: { context?: string | undefined }): Promise<void> {
  if (!CLUSTER_NAME.test(cluster)) throw new InvalidArgumentError('cluster', cluster, 'cluster names are lower-case DNS labels');
  const s = await openSession(opts.context);
  try {
    const value = await requestReveal(s.nc, s.ctx.cluster, cluster, field);
    io.out(value.endsWith('\n') ? value : `${value}\n`);
  } finally {
    await s.close();
  }
}

/** `destroy <cluster>`: its VMs, the ISO on every node, its credentials and install directory. */
export async function destroyCluster(io: CliIO, cluster: string, opts: { context?: string | undefined; yes?: boolean | undefined; timeout: string }): Promise<void> {
  if (!CLUSTER_NAME.test(cluster)) throw new InvalidArgumentError('cluster', cluster, 'cluster names are lower-case DNS labels');
  if (!opts.yes) throw new InvalidArgumentError('--yes', undefined, `destroy removes the VMs of ${cluster} and its credentials; pass --yes to confirm`);
  await withSession(opts.context, async (s) => {
    if (!(await readOpenShiftRecords(s.store)).has(cluster)) throw new NotFoundError(`no OpenShift cluster named ${cluster} has been installed here`);
    const req = await submitRequest(s.store, 'delete', s.ctx.name, { cluster });
    io.err(`destroy ${req.runId} submitted\n`);
    const summary = await watchRun(s, req.runId, io, { json: false, timeoutMs: Number(opts.timeout) * 1000 });
    io.out(formatSummary(summary.guests));
  });
}
