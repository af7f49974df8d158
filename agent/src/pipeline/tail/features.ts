/** The spec's features in order, each recorded once installed; output streamed. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runGuestScript } from '../../features/runner.js';
import { sig } from '../context.js';
import type { TailStep } from './context.js';

export const featuresStep: TailStep = async (t) => {
  const { c, guest, spec, steps, o } = t;
  for (const f of t.features) {
    const step = `feature:${f.name}`;
    if (t.installed.get(f.name) === f.digest) {
      steps.skip(step, `${f.name} already installed`);
      continue;
    }
    await steps.run(step, `installing ${f.name}`, async (ctx) => {
      if (t.dry) return { changed: true, message: `would install ${f.name}` };
      const body = await readFile(join(c.featuresDir, f.def.script), 'utf8');
      await runGuestScript(c.d, {
        guestKind: guest.kind,
        vmid: spec.vmid,
        kind: 'feature',
        name: f.name,
        body,
        env: f.env,
        featuresDir: c.featuresDir,
        timeoutMs: c.timing.featureTimeoutMs,
        ...sig(o),
        onLine: (l) => ctx.log(l.line, l.stderr),
        onProgress: (pct, msg) => ctx.progress(pct, msg),
      });
      t.installed.set(f.name, f.digest);
      await t.saveRecord();
      return { changed: true, message: `${f.name} installed` };
    });
  }
};
