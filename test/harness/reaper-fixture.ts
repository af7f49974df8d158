/**
 * A stand-in for a test or the demo (used by test/harness-reaper.test.ts): starts a NATS server
 * and a plain child through the harness, prints their pids, then waits to be killed.
 */
import { spawn } from 'node:child_process';
import { startNatsServer } from './nats-basic.js';
import { reapWithParent } from './reaper.js';

const nats = await startNatsServer();
const sleeper = reapWithParent(spawn('sleep', ['600'], { stdio: 'ignore' }));
process.stdout.write(`${JSON.stringify({ nats: nats.pid, sleeper: sleeper.pid })}\n`);
setInterval(() => undefined, 60_000);
