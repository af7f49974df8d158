/**
 * The part of the pipeline after the guest exists and is configured, as a list of small steps
 * over one context: ensure runs them all, RunFeatures only the features. Each step first checks
 * the record and the live state, so a converged guest gets no mutating call.
 */
import type { PipelineContext } from '../context.js';
import { applicationStep } from './application.js';
import { tailContext, type TailInput, type TailStep } from './context.js';
import { featuresStep } from './features.js';
import { templateGuard } from './guard.js';
import { healthStep } from './health.js';
import { startStep } from './start.js';
import { templateStep } from './template.js';

export type { TailInput, TailStep } from './context.js';

/** Everything after configure, for EnsureGuest. */
export const ENSURE_TAIL: readonly TailStep[] = [templateGuard, startStep, featuresStep, applicationStep, healthStep, templateStep];
/** RunFeatures on a running guest. */
export const FEATURES_ONLY: readonly TailStep[] = [featuresStep];

export async function runTail(c: PipelineContext, input: TailInput, list: readonly TailStep[]): Promise<void> {
  const t = tailContext(c, input);
  for (const step of list) if ((await step(t)) === 'stop') return;
}
