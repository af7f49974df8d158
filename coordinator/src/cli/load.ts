/** Loading the inputs the commands share: a spec, a view, the policy (with CLI overrides). */
import { loadSpecFile, type LoadedSpec } from '../spec/load.js';
import { loadViewFile } from '../view/file.js';
import type { ClusterView } from '../view/types.js';
import { policyFromSpec, type SchedulePolicy } from '../scheduler/types.js';
import type { CompiledSpec } from '../spec/compile.js';
import type { CliIO } from './io.js';

export async function loadSpec(path: string): Promise<LoadedSpec> {
  return loadSpecFile(path);
}

export async function loadView(path: string, io: CliIO): Promise<ClusterView> {
  return loadViewFile(path, io.now());
}

export function policyFor(spec: CompiledSpec, strategy: 'binpack' | 'spread' | undefined): SchedulePolicy {
  const policy = policyFromSpec(spec.scheduling);
  return strategy ? { ...policy, strategy } : policy;
}
