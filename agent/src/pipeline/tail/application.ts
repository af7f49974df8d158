/** The application script (library or inline), run once per content and arguments. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runGuestScript } from '../../features/runner.js';
import { sig } from '../context.js';
import type { TailStep } from './context.js';

export const applicationStep: TailStep = async (t) => {
  const { c, guest, spec, steps, o } = t;
  const app = spec.applicationScript;
  const appD = t.plan.appDigest;
  if (appD === undefined || !app) return steps.skip('application', 'no application script');
  if (!t.plan.appPending) return steps.skip('application', 'application script already ran with these arguments');
  const label = app.name || 'inline';
  await steps.run('application', `running application script ${label}`, async (ctx) => {
    if (t.dry) return { changed: true, message: `would run application script ${label}` };
    const body = app.name ? await readFile(join(c.featuresDir, 'apps', `${app.name}.sh`), 'utf8') : app.content;
    await runGuestScript(c.d, {
      guestKind: guest.kind,
      vmid: spec.vmid,
      kind: 'app',
      name: label,
      body,
      env: {},
      args: app.args,
      featuresDir: c.featuresDir,
      timeoutMs: c.timing.featureTimeoutMs,
      ...sig(o),
      onLine: (l) => ctx.log(l.line, l.stderr),
      onProgress: (pct, msg) => ctx.progress(pct, msg),
    });
    t.installed.set('app', appD);
    await t.saveRecord();
    return { changed: true, message: `application script ${label} done` };
  });
};
