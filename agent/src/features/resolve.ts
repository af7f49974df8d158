/**
 * Checks a spec's feature list against the library before anything changes: every name known,
 * every dependency installed earlier (in this spec or inherited from the clone source), GPU
 * passthrough present for GPU features, parameters valid. Returns what the runner needs.
 */
import { FailedPreconditionError, InvalidArgumentError, describeZodError, featureNameSchema } from '@phoenix/shared';
import { FEATURES, featureByName, paramEnvName, type FeatureDefinition, type GuestKind } from './catalog.js';
import { digest } from './record.js';

export interface FeatureRefLike {
  name: string;
  params: Readonly<Record<string, string>>;
}

export interface ResolvedFeature {
  def: FeatureDefinition;
  name: string;
  /** Spec parameters plus the injected node facts. */
  params: Record<string, string>;
  /** PHOENIX_<KEY> variables for the script. */
  env: Record<string, string>;
  /** Digest recorded once the feature is installed. */
  digest: string;
}

export interface ResolveContext {
  guestKind: GuestKind;
  /** Features already present (inherited from the clone source or recorded on the guest). */
  inherited: ReadonlySet<string>;
  /** Whether the guest gets GPUs (device nodes for a container, hostpci devices for a VM). */
  hasGpu: boolean;
  /** The node's NVIDIA kernel driver version, when it has one. */
  nodeDriverVersion: string | undefined;
}

export function resolveFeatures(refs: readonly FeatureRefLike[], ctx: ResolveContext): ResolvedFeature[] {
  const out: ResolvedFeature[] = [];
  const seen = new Set<string>();
  const known = FEATURES.map((f) => f.name).join(', ');
  refs.forEach((ref, i) => {
    const field = `features[${i}]`;
    if (!featureNameSchema.safeParse(ref.name).success) {
      throw new InvalidArgumentError(`${field}.name`, ref.name, `not a feature name; known features: ${known}`);
    }
    const def = featureByName(ref.name);
    if (!def) throw new InvalidArgumentError(`${field}.name`, ref.name, `unknown feature; known features: ${known}`);
    if (seen.has(def.name)) throw new InvalidArgumentError(`${field}.name`, ref.name, 'listed twice');
    if (!def.guestKinds.includes(ctx.guestKind)) {
      throw new InvalidArgumentError(`${field}.name`, ref.name, `not available for ${ctx.guestKind === 'lxc' ? 'containers' : 'VMs'}`);
    }
    for (const dep of def.dependsOn) {
      if (!seen.has(dep) && !ctx.inherited.has(dep)) {
        throw new InvalidArgumentError(
          `${field}.name`,
          ref.name,
          `needs feature '${dep}' first: list it before '${def.name}', or clone from a guest that has it`,
        );
      }
    }
    if (def.needsGpu && !ctx.hasGpu) {
      throw new InvalidArgumentError(`${field}.name`, ref.name, 'needs GPU passthrough: set gpu.indices');
    }
    for (const key of Object.keys(ref.params)) {
      if (def.injected?.includes(key as 'driver_version')) {
        throw new InvalidArgumentError(`${field}.params.${key}`, ref.params[key], 'is taken from the node and cannot be set');
      }
    }
    const parsed = def.params.safeParse({ ...ref.params });
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const path = first && first.path.length > 0 ? `${field}.params.${first.path.join('.')}` : `${field}.params`;
      throw new InvalidArgumentError(path, ref.params, describeZodError(parsed.error, ref.params).join('; '), { cause: parsed.error });
    }
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed.data)) if (v !== undefined) params[k] = v;
    if (def.injected?.includes('driver_version')) {
      if (!ctx.nodeDriverVersion) {
        throw new FailedPreconditionError(`feature ${def.name} needs the node's NVIDIA driver, but none is loaded on this node`);
      }
      params['driver_version'] = ctx.nodeDriverVersion;
    }
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) env[paramEnvName(k)] = v;
    out.push({ def, name: def.name, params, env, digest: digest({ feature: def.name, params }) });
    seen.add(def.name);
  });
  return out;
}
