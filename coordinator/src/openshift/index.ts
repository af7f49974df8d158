/** OpenShift clusters: manifests, the installer driver, and their removal. */
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
export { CliInstaller, InstallerError, INSTALLER_EXIT, parseInstallerLine, type InstallerLine, type OpenShiftInstaller, type WaitTarget } from './installer.js';
export { InstallerDriver, type InstallerDriverOptions, type RenderManifests } from './driver.js';
export { removeOpenShiftCluster, splitIsoVolume, type IsoTransfer, type RemovedCluster } from './remove.js';
export { credentialsPath, redactLine } from './credentials.js';
export { agentIsoTransfer } from './agent-isos.js';
