/** `phoenix node setup`: compile each node's host spec and run SetupHost on its agent, printing every step. */
import { readFile } from 'node:fs/promises';
import { ExitCode, InvalidArgumentError, NotFoundError, PartiallyAppliedError, errorFromCode } from '@phoenix/shared';
import { AgentClient } from '../../agents/index.js';
import { contextTls } from '../../context/index.js';
import { formatSetupEvent, setupNodes } from '../../host-setup/index.js';
import { loadSpecText } from '../../spec/load.js';
import type { CliIO } from '../io.js';
import { openSession } from './cluster-session.js';

export interface NodeSetupCliOptions {
  all?: boolean | undefined;
  dryRun?: boolean | undefined;
  context?: string | undefined;
}

export async function nodeSetup(io: CliIO, nodeArg: string | undefined, specArg: string | undefined, opts: NodeSetupCliOptions): Promise<void> {
  const specPath = opts.all ? (specArg ?? nodeArg) : specArg;
  if (specPath === undefined) throw new InvalidArgumentError('spec', null, 'name the spec file');
  if (!opts.all && (nodeArg === undefined || specArg === undefined)) throw new InvalidArgumentError('node', nodeArg ?? null, 'name a node or give --all');
  const { compiled } = loadSpecText(await readFile(specPath, 'utf8'), specPath);
  const nodes = opts.all ? compiled.nodes.map((n) => n.name) : [nodeArg ?? ''];
  for (const n of nodes) if (!compiled.nodes.some((x) => x.name === n)) throw new NotFoundError(`node ${n} is not in ${specPath}`);
  const session = await openSession(opts.context);
  const clients = new Map<string, AgentClient>();
  try {
    const { addresses } = await session.view();
    const tls = contextTls(session.ctx);
    const results = await setupNodes(compiled, nodes, {
      dryRun: opts.dryRun === true,
      clientFor: (n) => {
        const address = addresses.get(n);
        if (!address) throw new NotFoundError(`no address known for node ${n} (is its agent up?)`);
        let c = clients.get(n);
        if (!c) clients.set(n, (c = new AgentClient({ node: n, address }, { tls, requester: `cli/${session.ctx.name}` })));
        return c;
      },
      onEvent: (n, e) => {
        const line = formatSetupEvent(n, e);
        if (line !== undefined) io.out(`${line}\n`);
      },
    });
    let worst: number = ExitCode.OK;
    for (const r of results) {
      for (const w of r.host.warnings) io.err(`${r.node}: warning: ${w.path}: ${w.message}\n`);
      const verb = opts.dryRun ? 'would change' : 'changed';
      if (r.ok) io.out(`${r.node}: ${r.changed ? `${verb} ${r.changedSteps.length} step(s)` : 'nothing to change'}\n`);
      else {
        io.err(`${r.node}: failed (${r.errorCode}): ${r.error}\n`);
        const code = errorFromCode(r.errorCode, r.error).exitCode;
        if (code > worst) worst = code;
      }
    }
    if (worst === ExitCode.PARTIAL) throw new PartiallyAppliedError('host setup was partially applied on some nodes');
    if (worst !== ExitCode.OK) throw errorFromCode(results.find((r) => !r.ok)?.errorCode ?? 'INTERNAL', 'host setup failed on some nodes');
  } finally {
    for (const c of clients.values()) c.close();
    await session.close();
  }
}
