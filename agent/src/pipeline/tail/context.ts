/**
 * What every tail step reads: the guest, the spec, the features, the record of what is installed
 * (saved into the guest's description as steps finish), and the plan of what is pending, worked
 * out once before the first step so that later steps see what the run started with.
 */
import type { GuestConfig } from '../../drivers/types.js';
import { composeDescription, digest, splitDescription, type InstalledRecord } from '../../features/record.js';
import type { ResolvedFeature } from '../../features/resolve.js';
import { sig, type PipelineContext } from '../context.js';
import type { GuestOps } from '../guest-ops.js';
import type { StepRunner } from '../steps.js';
import type { EnsureOptions, GuestSpec } from '../types.js';

export interface TailInput {
  spec: GuestSpec;
  guest: GuestOps;
  steps: StepRunner;
  o: EnsureOptions;
  features: ResolvedFeature[];
  /** Live config after configure; undefined only in a dry run of a guest that does not exist yet. */
  cfg: GuestConfig | undefined;
  /** Record the guest starts with (inherited from the clone source in a dry run of a new guest). */
  record: InstalledRecord;
  /** Something changed in this run before the tail (created, cloned, configured, resized). */
  changedBefore: boolean;
  /** A running guest must restart to apply the configuration. */
  restartNeeded: boolean;
}

/** What is pending, from the record the run starts with. */
export interface TailPlan {
  appDigest: string | undefined;
  appPending: boolean;
  healthDigest: string | undefined;
  healthPending: boolean;
  /** Anything to run inside the guest (so it must run). */
  insideWork: boolean;
  /** The guest is a template layer (a template snapshot or a conversion). */
  layer: boolean;
}

export interface TailContext extends TailInput {
  c: PipelineContext;
  /** A dry run: every step says what it would do and changes nothing. */
  dry: boolean;
  plan: TailPlan;
  /** The record as steps update it; `saveRecord` writes it into the description. */
  installed: Map<string, string>;
  saveRecord(): Promise<void>;
}

/** A tail step; 'stop' ends the tail (a template guest has nothing more to do). */
export type TailStep = (t: TailContext) => Promise<void | 'stop'>;

export function appDigest(spec: GuestSpec): string | undefined {
  const app = spec.applicationScript;
  if (!app || (app.name === '' && app.content === '')) return undefined;
  return digest({ vmid: spec.vmid, name: app.name, content: app.content, args: app.args });
}

export function healthDigest(spec: GuestSpec): string | undefined {
  const hc = spec.healthCheck;
  if (!hc || hc.command.length === 0) return undefined;
  return digest({ vmid: spec.vmid, command: hc.command });
}

export function planTail(t: TailInput): TailPlan {
  const { spec, record } = t;
  const featuresPending = t.features.some((f) => record.get(f.name) !== f.digest);
  const appD = appDigest(spec);
  const appPending = appD !== undefined && record.get('app') !== appD;
  const healthD = healthDigest(spec);
  const healthPending = healthD !== undefined && (record.get('health') !== healthD || featuresPending || appPending || t.changedBefore);
  return {
    appDigest: appD,
    appPending,
    healthDigest: healthD,
    healthPending,
    insideWork: featuresPending || appPending || healthPending,
    layer: spec.templateSnapshot !== '' || spec.convertToTemplate,
  };
}

export function tailContext(c: PipelineContext, input: TailInput): TailContext {
  const installed = new Map(input.record);
  let description = input.cfg?.values['description'] ?? '';
  return {
    ...input,
    c,
    dry: input.o.dryRun === true,
    plan: planTail(input),
    installed,
    async saveRecord() {
      const human = input.spec.description || splitDescription(description).human;
      description = composeDescription(human, installed);
      await input.guest.setDescription(description, sig(input.o));
    },
  };
}
