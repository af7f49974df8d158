/**
 * Nothing a test or the demo started outlives it: a stand-in process starts a real nats-server and
 * a plain child through the harness, is killed (SIGKILL: no handler of its own runs, or SIGTERM),
 * and both children must be gone soon after.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './harness/agent-process.js';
import { waitFor } from './harness/wait-for.js';

const FIXTURE = join(repoRoot(), 'test/dist/harness/reaper-fixture.js');

/** Alive and not a zombie waiting for a parent that will never come. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function startStandIn(): Promise<{ kill(signal: NodeJS.Signals): void; pids: { nats: number; sleeper: number } }> {
  const child = spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out += d));
  const pids = await waitFor('the stand-in to report its children', () => {
    const line = out.split('\n')[0];
    return out.includes('\n') && line ? (JSON.parse(line) as { nats: number; sleeper: number }) : undefined;
  }, 20_000);
  return { kill: (s) => child.kill(s), pids };
}

describe('harness children die with their parent', () => {
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`after ${signal} of the parent, nats-server and the other child are gone`, async () => {
      const standIn = await startStandIn();
      expect(running(standIn.pids.nats)).toBe(true);
      expect(running(standIn.pids.sleeper)).toBe(true);
      standIn.kill(signal);
      await waitFor('nats-server to exit', () => (running(standIn.pids.nats) ? undefined : true), 15_000);
      await waitFor('the sleeper to exit', () => (running(standIn.pids.sleeper) ? undefined : true), 15_000);
    });
  }
});
