export { CliInstaller, InstallerError, INSTALLER_EXIT, parseInstallerLine, type InstallerLine, type OpenShiftInstaller, type WaitTarget } from './installer.js';
export { InstallerDriver, type InstallerDriverOptions, type ManifestInputs, type RenderManifests } from './driver.js';
export { removeOpenShiftCluster, splitIsoVolume, type IsoTransfer, type RemovedCluster } from './remove.js';
export { credentialsPath, redactLine } from './credentials.js';
