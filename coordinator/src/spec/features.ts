/**
 * The built-in feature library: the features Phoenix installed (docs/reference/phoenix-proxshift.md §2.6). A spec may add entries
 * or replace one of these by name. `requires` is satisfied by the guest itself or any template guest
 * it descends from, as Phoenix's is_feature_present_on_container did.
 */
import type { FeatureDef } from './templates.js';

const both: FeatureDef['appliesTo'] = ['container', 'vm'];
const ct: FeatureDef['appliesTo'] = ['container'];

export const BUILTIN_FEATURES: readonly FeatureDef[] = [
  { name: 'base_setup', description: 'base packages and en_US.UTF-8 locale', appliesTo: both, requires: [] },
  { name: 'nvidia', description: 'NVIDIA user-space driver and CUDA toolkit matching the host', appliesTo: both, requires: [] },
  { name: 'docker', description: 'Docker engine (NVIDIA runtime when nvidia is present)', appliesTo: both, requires: [] },
  { name: 'vllm', description: 'vLLM inference server', appliesTo: both, requires: ['nvidia'] },
  { name: 'ollama', description: 'Ollama server listening on 0.0.0.0:11434', appliesTo: both, requires: ['nvidia'] },
  { name: 'portainer', description: 'Portainer server or agent container', appliesTo: both, requires: ['docker'] },
  { name: 'python_api_service', description: 'python3, pip and venv', appliesTo: both, requires: [] },
  { name: 'trusted_ca', description: 'install the internal root CA', appliesTo: both, requires: [] },
  { name: 'step_cli', description: 'Smallstep CLI bootstrapped against the internal CA', appliesTo: both, requires: [] },
  { name: 'step_ca', description: 'Smallstep certificate authority', appliesTo: ct, requires: ['step_cli'] },
  { name: 'traefik', description: 'Traefik reverse proxy', appliesTo: both, requires: [] },
  { name: 'dns_server', description: 'dnsmasq resolver', appliesTo: both, requires: [] },
  { name: 'nat_gateway', description: 'NAT gateway', appliesTo: ct, requires: [] },
];
