/** OpenShift clusters: the agent-based installer's manifests. */
export {
  agentConfigOf,
  installConfigOf,
  renderManifests,
  type AgentConfig,
  type AgentHost,
  type InstallConfig,
  type ManifestInputs,
  type NmstateConfig,
  type RenderedManifests,
} from './manifests.js';
