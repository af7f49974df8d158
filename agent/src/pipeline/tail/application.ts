/** The application script (library or inline), run once per content and arguments. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TailStep } from './context.js';
import { runScript } from './script.js';

export const applicationStep: TailStep = async (t) => {
  const { c, spec, steps } = t;
  const app = spec.applicationScript;
  const appD = t.plan.appDigest;
  if (appD === undefined || !app) return steps.skip('application', 'no application script');
  if (!t.plan.appPending) return steps.skip('application', 'application script already ran with these arguments');
  const label = app.name || 'inline';
  await steps.run('application', `running application script ${label}`, async (ctx) => {
    if (t.dry) return { changed: true, message: `would run application script ${label}` };
    const body = app.name ? await readFile(join(c.featuresDir, 'apps', `${app.name}.sh`), 'utf8') : app.content;
    await runScript(t, ctx, { kind: 'app', name: label, body, env: {}, args: app.args });
    t.installed.set('app', appD);
    await t.saveRecord();
    return { changed: true, message: `application script ${label} done` };
  });
};
