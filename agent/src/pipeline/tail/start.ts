/** Start (or restart to apply the configuration) with bounded retries, then wait until ready. */
import type { GuestRunState } from '../../drivers/types.js';
import { sig } from '../context.js';
import { withRetries } from '../retry.js';
import type { TailStep } from './context.js';

export const startStep: TailStep = async (t) => {
  const { c, guest, spec, steps, o, dry } = t;
  const state: GuestRunState = t.cfg ? await guest.status(sig(o)) : 'stopped';
  if (t.plan.layer && !t.plan.insideWork) return steps.skip('start', 'nothing to run inside; the template layer stays as it is');
  if (state === 'running' && !t.restartNeeded) return steps.skip('start', `${guest.word} ${spec.vmid} is running`);
  await steps.run('start', `starting ${guest.word} ${spec.vmid}`, async (ctx) => {
    if (dry) return { changed: true, message: state === 'running' ? 'would restart to apply the configuration' : 'would start' };
    if (state === 'running') {
      ctx.progress(10, 'restarting to apply the configuration');
      await guest.shutdown(c.timing.shutdownTimeoutSeconds, sig(o));
    }
    await withRetries(c.timing.startAttempts, c.timing.startBackoffMs, () => guest.start(sig(o)), {
      ...sig(o),
      onRetry: (err, attempt, wait) => ctx.log(`start attempt ${attempt} failed (${err instanceof Error ? err.message : String(err)}); retrying in ${wait} ms`, true),
    });
    await guest.driver.waitReady(c, spec, (pct, msg) => ctx.progress(pct, msg), sig(o));
    return { changed: true, message: `${guest.word} ${spec.vmid} started` };
  });
};
