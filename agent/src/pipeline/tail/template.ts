/** A template layer: a snapshot taken on the stopped guest (retaken when stale), or a conversion. */
import { composeDescription } from '../../features/record.js';
import { sig } from '../context.js';
import { snapshotMatches } from '../guest-state.js';
import type { TailStep } from './context.js';

export const templateStep: TailStep = async (t) => {
  const { c, guest, spec, steps, o, dry } = t;
  if (!t.plan.layer) return steps.skip('template', 'not a template layer');
  const shutdown = () => guest.shutdown(c.timing.shutdownTimeoutSeconds, sig(o));
  if (spec.convertToTemplate) {
    await steps.run('template', `converting ${guest.word} ${spec.vmid} to a template`, async () => {
      if (dry) return { changed: true, message: 'would stop and convert to a template' };
      if ((await guest.status(sig(o))) === 'running') await shutdown();
      await guest.template(sig(o));
      return { changed: true, message: `${guest.word} ${spec.vmid} is now a template` };
    });
    return;
  }
  const name = spec.templateSnapshot;
  if (dry && !t.cfg) {
    await steps.run('template', `snapshot ${name}`, () => Promise.resolve({ changed: true, message: `would stop and take snapshot ${name}` }));
    return;
  }
  const exists = (await guest.listSnapshots(sig(o))).some((s) => s.name === name);
  const live = await guest.config(sig(o));
  const current = exists && snapshotMatches(live, await guest.snapshotConfig(name, sig(o)));
  const running = (await guest.status(sig(o))) === 'running';
  if (current && !running) return steps.skip('template', `snapshot ${name} is current`);
  await steps.run('template', `template snapshot ${name}`, async (ctx) => {
    if (dry) return { changed: true, message: current ? 'would stop the template layer' : `would stop and ${exists ? 'retake' : 'take'} snapshot ${name}` };
    if (running) {
      ctx.progress(10, `stopping ${guest.word} ${spec.vmid}`);
      await shutdown();
    }
    if (current) return { changed: true, message: `stopped; snapshot ${name} is current` };
    if (exists) {
      ctx.progress(40, `snapshot ${name} is stale: removing it`);
      await guest.delsnapshot(name, sig(o));
    }
    ctx.progress(60, `taking snapshot ${name}`);
    // PVE does not copy the guest's description into a snapshot; the snapshot's own comment is
    // its description, and a clone from the snapshot gets that as its description. So the record
    // of installed features travels as the comment.
    await guest.snapshot(name, composeDescription('', t.installed), sig(o));
    return { changed: true, message: `snapshot ${name} taken` };
  });
};
