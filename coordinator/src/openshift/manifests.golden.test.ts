import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { goldenAt } from '../importers/golden.js';
import { specToYaml } from '../importers/output.js';
import { importProxShift } from '../importers/proxshift/index.js';
import type { PlannedHost } from '../plan/openshift.js';
import { loadSpecText } from '../spec/load.js';
import { renderManifests, type ManifestInputs } from './index.js';

/**
 * ProxShift's own templates rendered for its example inventory (test/fixtures/proxshift-manifests,
 * render.py; SOURCES.md lists where the goldens deliberately differ from the raw render and why).
 */
const REPO = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const FIXTURES = 'test/fixtures/proxshift-manifests';

// The same obviously fake values render.py passes to ProxShift's templates.
const INPUTS: ManifestInputs = {
  pullSecret: '{"auths": {"registry.invalid": {"auth": "ZmFrZTpmYWtl", "email": "nobody@example.invalid"}}}',
  sshKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEZBS0UtS0VZLUZPUi1URVNUUy1PTkxZ fake@example.invalid',
  trustBundle: '-----BEGIN CERTIFICATE-----\nRkFLRS1DQS1GT1ItVEVTVFMtT05MWQ==\n-----END CERTIFICATE-----\n',
};

async function importedClusters() {
  const r = await importProxShift(REPO('examples/proxshift/examples/clusters.yml.template'), {
    site: REPO('examples/proxshift/examples/site-config.yaml'),
  });
  return loadSpecText(specToYaml(r.spec), 'proxshift').compiled;
}

describe('manifests against ProxShift', () => {
  it.each(['ocp', 'ocp3', 'ocp-sno1'])('renders %s as ProxShift does, minus its bugs', async (name) => {
    const compiled = await importedClusters();
    const cluster = compiled.openshift.find((c) => c.spec.name === name);
    if (cluster === undefined) throw new Error(`cluster ${name} not imported`);
    // The inventory gives every host its address and MAC: plan them as the importer carried them.
    const hosts = cluster.spec.nodes.map((n, i): PlannedHost => {
      const guest = compiled.guests.find((g) => g.name === n.name);
      return { name: n.name, guestId: n.name, role: n.role, node: `pve${i + 1}`, ip: n.ip ?? '', mac: guest?.network.mac ?? '', rootDeviceWwn: n.rootDeviceWwn };
    });
    const out = renderManifests(cluster, hosts, INPUTS);
    expect(parse(out.installConfig)).toEqual(parse(goldenAt(REPO(`${FIXTURES}/${name}/install-config.yaml`), out.installConfig)));
    expect(parse(out.agentConfig)).toEqual(parse(goldenAt(REPO(`${FIXTURES}/${name}/agent-config.yaml`), out.agentConfig)));
  });
});
