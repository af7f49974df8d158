/** Runs a library script (a feature or the application) in the guest, its output streamed into the step. */
import { runGuestScript } from '../../features/runner.js';
import { sig } from '../context.js';
import type { StepContext } from '../steps.js';
import type { TailContext } from './context.js';

export interface TailScript {
  kind: 'feature' | 'app';
  name: string;
  body: string;
  env: Readonly<Record<string, string>>;
  args?: readonly string[];
}

export function runScript(t: TailContext, ctx: StepContext, s: TailScript): Promise<void> {
  return runGuestScript(t.c.d, {
    ...s,
    guestKind: t.guest.kind,
    vmid: t.spec.vmid,
    featuresDir: t.c.featuresDir,
    timeoutMs: t.c.timing.featureTimeoutMs,
    ...sig(t.o),
    onLine: (l) => ctx.log(l.line, l.stderr),
    onProgress: (pct, msg) => ctx.progress(pct, msg),
  });
}
