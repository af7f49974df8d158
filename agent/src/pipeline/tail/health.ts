/** The health check, with retries; run again whenever anything changed since the last pass. */
import { CommandFailedError } from '@phoenix/shared';
import { sig } from '../context.js';
import { sleep } from '../retry.js';
import type { TailContext, TailStep } from './context.js';

export const healthStep: TailStep = async (t) => {
  const hc = t.spec.healthCheck;
  const healthD = t.plan.healthDigest;
  if (healthD === undefined || !hc) return t.steps.skip('health', 'no health check');
  if (!t.plan.healthPending) return t.steps.skip('health', 'healthy at the last change; nothing changed since');
  await t.steps.run('health', `health check: ${hc.command.join(' ')}`, async (ctx) => {
    if (t.dry) return { changed: false, message: 'would run the health check' };
    await runHealthCheck(t, hc.command, hc.retries, hc.intervalSeconds, (line, err) => ctx.log(line, err));
    t.installed.set('health', healthD);
    await t.saveRecord();
    return { changed: true, message: 'healthy' };
  });
};

async function runHealthCheck(t: TailContext, command: string[], retriesWanted: number, intervalSeconds: number, log: (line: string, stderr: boolean) => void): Promise<void> {
  const { c, guest, o } = t;
  const retries = retriesWanted > 0 ? retriesWanted : c.timing.healthRetriesDefault;
  const interval = intervalSeconds > 0 ? intervalSeconds * 1000 : c.timing.healthIntervalMsDefault;
  let last = '';
  for (let attempt = 1; attempt <= retries; attempt++) {
    const res = await guest.exec(command, { mutating: false, timeoutMs: Math.max(30_000, interval * 2), ...sig(o) });
    if (res.exitCode === 0) return;
    last = (res.stderr.trim() || res.stdout.trim()).split('\n').pop() ?? '';
    log(`attempt ${attempt}/${retries}: exit ${res.exitCode}${last ? `: ${last}` : ''}`, true);
    if (attempt < retries) await sleep(interval, o.signal);
  }
  throw new CommandFailedError(`health check of ${guest.word} ${guest.vmid} failed ${retries} time(s)${last ? `: ${last}` : ''}`, {
    details: { vmid: guest.vmid, command },
  });
}
