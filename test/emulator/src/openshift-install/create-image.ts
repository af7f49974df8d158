import fs from 'node:fs';
import path from 'node:path';
import { YAMLParseError } from 'yaml';
import { assignRoles, chooseRendezvousIP, readAgentConfig, validateAgentConfig, validateAgentHosts, validateHostCounts } from './agent-config.js';
import { ISO_NAME, newIds, writeArtifacts } from './artifacts.js';
import { readInstallConfig, validateInstallConfig } from './install-config.js';
import { writeInstallState, type HostRecord } from './install-state.js';
import type { Logger } from './log.js';
import { parseDoc, type Doc } from './yaml-fields.js';

/**
 * `openshift-install agent create image`: loads and validates install-config.yaml and
 * agent-config.yaml, writes the ISO, auth/ and the state file, then consumes both manifests.
 * Failures end in logrus.Fatal with the asset store's wrapping of the error.
 */
const TARGET = 'Agent Installer ISO';
const loadFailed = (asset: string, err: string): string => `failed to fetch ${TARGET}: failed to load asset "${asset}": ${err}`;
/** An error generating `asset`, reached through the dependency chain from the ISO. */
function generateFailed(chain: string[], asset: string, err: string): string {
  const deps = [TARGET, ...chain].map((a) => `failed to fetch dependency of "${a}": `).join('');
  return `failed to fetch ${TARGET}: ${deps}failed to generate asset "${asset}": ${err}`;
}
const IGNITION_CHAIN = ['Agent Installer Artifacts'];
const HOSTS_CHAIN = ['Agent Installer Artifacts', 'Agent Installer Ignition', 'Agent Manifests', 'NMState Config'];

function readManifest(log: Logger, dir: string, file: string, asset: string): Doc | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return parseDoc(text);
  } catch (err) {
    const detail = err instanceof YAMLParseError ? err.message.split('\n')[0] : String(err);
    return log.fatal(loadFailed(asset, `failed to unmarshal ${file}: error converting YAML to JSON: yaml: ${detail}`));
  }
}

export function createImage(log: Logger, dir: string): number {
  log.attachFile(dir);
  const icDoc = readManifest(log, dir, 'install-config.yaml', 'Install Config');
  const acDoc = readManifest(log, dir, 'agent-config.yaml', 'Agent Config');
  if (!icDoc) {
    log.fatal(generateFailed(['Agent Installer Artifacts', 'Agent Installer Ignition', 'Agent Manifests'], 'Agent PullSecret', 'missing configuration or manifest file'));
  }
  const ic = readInstallConfig(icDoc);
  const icErr = validateInstallConfig(ic, (m) => log.info(m));
  if (icErr) log.fatal(loadFailed('Install Config', icErr));

  const ac = readAgentConfig(acDoc ?? {});
  const acErr = validateAgentConfig(ac, ic);
  if (acErr) log.fatal(loadFailed('Agent Config', acErr));
  const hosts = assignRoles(ac.hosts, ic.controlPlaneReplicas);
  const withRoles = { ...ac, hosts };
  const hostsErr = validateAgentHosts(withRoles);
  if (hostsErr) log.fatal(generateFailed(HOSTS_CHAIN, 'Agent Hosts', hostsErr));
  const countErr = validateHostCounts(withRoles, ic);
  if (countErr) log.fatal(generateFailed(IGNITION_CHAIN, 'Agent Installer Ignition', countErr));
  const rendezvousIP = chooseRendezvousIP(withRoles);
  if (!rendezvousIP) log.fatal(generateFailed(IGNITION_CHAIN, 'Agent Installer Ignition', 'missing rendezvousIP in agent-config or at least one NMStateConfig manifest'));
  log.info(`The rendezvous host IP (node0 IP) is ${rendezvousIP}`);

  log.info('Extracting base ISO from release payload');
  log.info('Base ISO obtained from release and cached at [/root/.cache/agent/image_cache/coreos-x86_64.iso]');
  const records: HostRecord[] = hosts.map((h) => ({ hostname: h.hostname, role: h.role === 'worker' ? 'worker' : 'master', macs: h.macs }));
  const nodeZero = hosts.find((h) => h.ips.includes(rendezvousIP)) ?? hosts.find((h) => h.role === 'master');
  const state = {
    ...newIds(ic.name),
    clusterName: ic.name,
    baseDomain: ic.baseDomain,
    rendezvousIP,
    rendezvousHost: nodeZero?.hostname ?? '',
    controlPlaneReplicas: ic.controlPlaneReplicas,
    computeReplicas: ic.computeReplicas,
    hosts: records,
    progress: {},
  };
  writeArtifacts(dir, state);
  writeInstallState(dir, state);
  log.info('Consuming Install Config from target directory');
  fs.rmSync(path.join(dir, 'install-config.yaml'), { force: true });
  if (acDoc) {
    log.info('Consuming Agent Config from target directory');
    fs.rmSync(path.join(dir, 'agent-config.yaml'), { force: true });
  }
  log.info(`Generated ISO at ${path.join(dir, ISO_NAME)}.`);
  return 0;
}
