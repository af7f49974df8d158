/**
 * What the host setup tests share: SetupHost over the agent's gRPC stream with its events gathered,
 * an emulated tool run as the user would, and a snapshot of the emulated node's whole state.
 */
import { execFile } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { Metadata, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { ERROR_CODE_TRAILER, type agentv1, type TlsMaterial } from '@phoenix/shared';
import type { AgentProcess } from './harness/agent-process.js';
import type { EmulatedNode } from './harness/index.js';

const run = promisify(execFile);

export async function emu(node: EmulatedNode, tool: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(join(node.binDir, tool), args, { env: node.env });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

export interface SetupOutcome {
  events: agentv1.OperationEvent[];
  error: (ServiceError & { code_: string }) | undefined;
  result: agentv1.OperationResult | undefined;
}

let keys = 0;
export function setupHost(agent: AgentProcess, tls: TlsMaterial, spec: agentv1.HostSpec, dryRun: boolean): Promise<SetupOutcome> {
  const call: ClientReadableStream<agentv1.SetupHostResponse> = agent
    .client(tls)
    .setupHost({ context: { idempotencyKey: `host-${process.pid}-${++keys}`, fencingToken: 0, requester: 'test/host-setup' }, spec, dryRun }, new Metadata(), {
      deadline: Date.now() + 120_000,
    });
  const events: agentv1.OperationEvent[] = [];
  return new Promise((resolve) => {
    call.on('data', (r: agentv1.SetupHostResponse) => events.push(r.event!));
    call.on('end', () => resolve({ events, error: undefined, result: events.find((e) => e.kind?.$case === 'result')?.kind?.value as agentv1.OperationResult }));
    call.on('error', (e: ServiceError) => {
      const code = String(e.metadata.get(ERROR_CODE_TRAILER)[0] ?? '');
      resolve({ events, error: Object.assign(e, { code_: code }), result: undefined });
    });
  });
}

export const logs = (o: SetupOutcome): string[] => o.events.flatMap((e) => (e.kind?.$case === 'log' ? [e.kind.value.line] : []));
export const steps = (o: SetupOutcome): agentv1.StepProgress[] => o.events.flatMap((e) => (e.kind?.$case === 'step' ? [e.kind.value] : []));

/** Every file of the node's state with its content and mode; calls.log records reads too, so it is left out. */
export function snapshot(stateDir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const rel = relative(stateDir, p);
      if (rel === 'calls.log') continue;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.set(rel, `-> ${readlinkSync(p)}`);
      else if (!st.isDirectory() && !st.isFile()) out.set(rel, `special ${st.mode.toString(8)}`);
      else if (st.isDirectory()) {
        out.set(`${rel}/`, `${st.mode.toString(8)} ${st.uid}:${st.gid}`);
        walk(p);
      } else out.set(rel, `${st.mode.toString(8)} ${st.uid}:${st.gid} ${readFileSync(p, 'utf8')}`);
    }
  };
  walk(stateDir);
  return out;
}
