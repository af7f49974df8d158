/**
 * The feature library: every feature the Phoenix configs use, with the script that installs it
 * inside a guest (agent/features/<name>.sh), the features it needs first, its parameters and
 * whether it needs GPU passthrough. Parameters travel to the script as PHOENIX_<NAME> variables.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export type GuestKind = 'lxc' | 'vm';

export interface FeatureDefinition {
  name: string;
  /** Script file name under the features directory. */
  script: string;
  description: string;
  /** Features that must be installed before this one (earlier in the spec, or inherited). */
  dependsOn: readonly string[];
  /** Needs the container's GPU passthrough (LXC) to do anything useful. */
  needsGpu: boolean;
  guestKinds: readonly GuestKind[];
  /** Parameters from the spec (FeatureRef.params), validated before anything changes. */
  params: z.ZodType<Record<string, string | undefined>>;
  /** Parameters the agent adds from node facts; a spec may not set them. */
  injected?: readonly 'driver_version'[];
}

const word = (re: RegExp, what: string) => z.string().regex(re, what);
const version = word(/^v?[0-9][0-9A-Za-z.+-]{0,40}$/, 'a version such as 1.2.3');
const imageTag = word(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'a docker image tag');
const url = word(/^https:\/\/[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._~%/+-]*)?$/, 'an https URL');
const pem = word(/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+\n-----END CERTIFICATE-----\n?$/, 'one PEM certificate');

export const FEATURES: readonly FeatureDefinition[] = [
  {
    name: 'base_setup',
    script: 'base_setup.sh',
    description: 'Common tools (curl, git, jq, vim, htop, rsync, …) and the system locale',
    dependsOn: [],
    needsGpu: false,
    guestKinds: ['lxc', 'vm'],
    params: z.strictObject({ locale: word(/^[a-z]{2,3}_[A-Z]{2}\.UTF-8$/, 'a locale such as en_US.UTF-8').optional() }),
  },
  {
    name: 'nvidia',
    script: 'nvidia.sh',
    description: "NVIDIA user-space driver matching the node's kernel driver, optional CUDA toolkit",
    dependsOn: [],
    needsGpu: true,
    guestKinds: ['lxc'],
    params: z.strictObject({
      cuda: word(/^\d{2}-\d$/, 'a CUDA toolkit package suffix such as 12-8').optional(),
      runfile_url: url.optional(),
    }),
    injected: ['driver_version'],
  },
  {
    name: 'docker',
    script: 'docker.sh',
    description: "Docker Engine from Docker's repository (plus the NVIDIA container toolkit with a GPU)",
    dependsOn: [],
    needsGpu: false,
    guestKinds: ['lxc', 'vm'],
    params: z.strictObject({}),
  },
  {
    name: 'vllm',
    script: 'vllm.sh',
    description: 'vLLM in /opt/vllm',
    dependsOn: ['nvidia'],
    needsGpu: true,
    guestKinds: ['lxc'],
    params: z.strictObject({ version }).partial(),
  },
  {
    name: 'ollama',
    script: 'ollama.sh',
    description: 'Ollama service',
    dependsOn: ['nvidia'],
    needsGpu: true,
    guestKinds: ['lxc'],
    params: z.strictObject({ host: word(/^[0-9.]+:\d{1,5}$/, 'address:port').optional() }),
  },
  {
    name: 'portainer',
    script: 'portainer.sh',
    description: 'Portainer server or agent container',
    dependsOn: ['docker'],
    needsGpu: false,
    guestKinds: ['lxc', 'vm'],
    params: z.strictObject({ role: z.enum(['server', 'agent']).optional(), version: imageTag.optional() }),
  },
  {
    name: 'python_api_service',
    script: 'python_api_service.sh',
    description: 'Python 3 with pip and venv',
    dependsOn: [],
    needsGpu: false,
    guestKinds: ['lxc', 'vm'],
    params: z.strictObject({}),
  },
  {
    name: 'trusted_ca',
    script: 'trusted_ca.sh',
    description: 'A root CA in the system trust store',
    dependsOn: [],
    needsGpu: false,
    guestKinds: ['lxc', 'vm'],
    params: z.strictObject({ ca_cert: pem, name: word(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a file name').optional() }),
  },
  {
    name: 'step_cli',
    script: 'step_cli.sh',
    description: 'Smallstep CLI, optionally bootstrapped against a CA',
    dependsOn: [],
    needsGpu: false,
    guestKinds: ['lxc', 'vm'],
    params: z
      .strictObject({ ca_url: url.optional(), fingerprint: word(/^[0-9a-f]{64}$/, 'a SHA-256 hex fingerprint').optional() })
      .refine((p) => (p.ca_url === undefined) === (p.fingerprint === undefined), 'ca_url and fingerprint go together'),
  },
  {
    name: 'step_ca',
    script: 'step_ca.sh',
    description: 'Smallstep CA server',
    dependsOn: ['step_cli'],
    needsGpu: false,
    guestKinds: ['lxc', 'vm'],
    params: z.strictObject({
      name: word(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, 'a CA name').optional(),
      dns: word(/^[A-Za-z0-9.-]+(,[A-Za-z0-9.-]+)*$/, 'comma-separated DNS names').optional(),
      address: word(/^[0-9.]*:\d{1,5}$/, 'an address such as :9000').optional(),
      provisioner: word(/^[A-Za-z0-9@._-]{1,64}$/, 'a provisioner name').optional(),
    }),
  },
  {
    name: 'traefik',
    script: 'traefik.sh',
    description: 'Traefik reverse proxy',
    dependsOn: [],
    needsGpu: false,
    guestKinds: ['lxc', 'vm'],
    params: z.strictObject({ version: word(/^v\d+\.\d+\.\d+$/, 'a release tag such as v3.1.6').optional() }),
  },
];

/** Application scripts of the library (agent/features/apps/<name>.sh). */
export const APPLICATIONS: readonly string[] = ['vllm', 'qdrant'];

const BY_NAME = new Map(FEATURES.map((f) => [f.name, f]));

export function featureByName(name: string): FeatureDefinition | undefined {
  return BY_NAME.get(name);
}

/** agent/features, from both src/ (tests) and dist/ (the daemon). */
export const DEFAULT_FEATURES_DIR = fileURLToPath(new URL('../../features/', import.meta.url));

/** Environment variable a parameter travels in. */
export function paramEnvName(key: string): string {
  return `PHOENIX_${key.toUpperCase()}`;
}
