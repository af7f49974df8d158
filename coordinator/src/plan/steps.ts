/** The steps a plan shows for a guest, with the estimated seconds of each. */
import type { CompiledGuest } from '../spec/compile.js';
import type { PlanStep } from './types.js';

/** Estimated seconds of each step on a real node (time the emulator scales down). */
export const STEP_SECONDS = {
  create: 20,
  clone: 30,
  configure: 1,
  start: 3,
  feature: 45,
  application: 20,
  health: 3,
  template: 5,
} as const;

/** A guest that exists is converged; a new one is built, skipping features its templates installed. */
export function stepsFor(g: CompiledGuest, exists: boolean, cloned: boolean, inherited: ReadonlySet<string>): PlanStep[] {
  if (exists) return [{ name: 'converge', reason: 'exists: configuration, state and features are checked and corrected', estSeconds: STEP_SECONDS.configure }];
  const steps: PlanStep[] = [
    cloned
      ? { name: 'ensure_exists', reason: `clone from ${g.template?.guest ?? 'template'}`, estSeconds: STEP_SECONDS.clone }
      : { name: 'ensure_exists', reason: `create from ${g.template?.file ?? 'template'}`, estSeconds: STEP_SECONDS.create },
    { name: 'configure', reason: 'apply cores, memory, network, mounts, passthrough', estSeconds: STEP_SECONDS.configure },
    { name: 'start', reason: 'guest is new', estSeconds: STEP_SECONDS.start },
  ];
  for (const { name: f } of g.features) {
    if (!inherited.has(f)) steps.push({ name: `feature:${f}`, reason: 'not installed', estSeconds: STEP_SECONDS.feature });
  }
  if (g.applicationScript) steps.push({ name: 'application', reason: 'new guest', estSeconds: STEP_SECONDS.application });
  if (g.snapshotAsTemplate) steps.push({ name: 'template', reason: `snapshot '${g.snapshotAsTemplate}' for clones`, estSeconds: STEP_SECONDS.template });
  return steps;
}
