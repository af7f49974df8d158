import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { exitCodeOf } from '@phoenix/shared';
import { loadSpecText } from '../../spec/load.js';
import { golden } from '../golden.js';
import { specToYaml } from '../output.js';
import { importProxShift } from './index.js';

const FIX = (p: string) => fileURLToPath(new URL(`../../../../examples/proxshift/${p}`, import.meta.url));
const INVENTORY = FIX('examples/clusters.yml.template');
const SITE = FIX('examples/site-config.yaml');

describe('import proxshift', () => {
  it.each([
    ['proxshift-with-site.yaml', SITE],
    ['proxshift-no-site.yaml', undefined],
  ])('matches %s and round-trips through validate', async (name, site) => {
    const r = await importProxShift(INVENTORY, { site });
    const text = specToYaml(r.spec, [r.summary]);
    expect(text).toBe(golden(name, text));
    const { compiled } = loadSpecText(text, name);
    expect(compiled.openshift.map((c) => [c.spec.name, c.spec.topology, c.spec.nodes.length])).toEqual([
      ['ocp', 'multi-node', 6],
      ['ocp3', 'compact', 3],
      ['ocp-sno1', 'sno', 1],
      ['ocp-sno2', 'sno', 1],
      ['ocp-sno3', 'sno', 1],
    ]);
  });

  it('keeps a host listed in two clusters in the first one only, with a warning', async () => {
    const r = await importProxShift(INVENTORY, { site: SITE });
    const { compiled } = loadSpecText(specToYaml(r.spec), 'x');
    const ocp = compiled.openshift.find((c) => c.spec.name === 'ocp')?.spec;
    const node6 = ocp?.nodes.find((n) => n.name === 'ocp-node6');
    expect(node6).toMatchObject({ role: 'worker', vmid: 406, ip: '192.168.1.15' });
    expect(compiled.guests.find((g) => g.name === 'ocp-node6')?.cores).toBe(10); // ocp's value, not ocp3's 12
    expect(compiled.openshift.find((c) => c.spec.name === 'ocp3')?.spec.nodes.map((n) => n.name)).toEqual(['ocp3-node1', 'ocp3-node2', 'ocp3-node3']);
    const w = r.warnings.find((x) => x.source === 'inventory:ocp3.hosts.ocp-node6');
    expect(w?.message).toContain('listed in clusters ocp and ocp3');
  });

  it('fails instead when asked to be strict about shared hosts', async () => {
    const err = await importProxShift(INVENTORY, { strictSharedHosts: true }).catch((e: unknown) => e);
    expect(exitCodeOf(err)).toBe(2);
    expect((err as Error).message).toContain('inventory:ocp3.hosts.ocp-node6: host ocp-node6 is listed in clusters ocp and ocp3');
  });

  it('derives roles and addresses from position, secrets from vault_items, the hub from the site', async () => {
    const r = await importProxShift(INVENTORY, { site: SITE });
    const { compiled } = loadSpecText(specToYaml(r.spec), 'x');
    const ocp = compiled.openshift.find((c) => c.spec.name === 'ocp');
    expect(ocp?.controlPlane).toEqual(['ocp-node1', 'ocp-node2', 'ocp-node3']);
    expect(ocp?.spec.nodes.map((n) => n.ip)).toEqual(['192.168.1.10', '192.168.1.11', '192.168.1.12', '192.168.1.13', '192.168.1.14', '192.168.1.15']);
    expect(ocp?.rendezvousIp).toBe('192.168.1.10');
    expect(ocp?.spec).toMatchObject({ apiVip: '192.168.1.20', ingressVip: '192.168.1.21', baseDomain: 'homelab.local', isoStorage: 'your_nfs' });
    expect(ocp?.spec.network).toMatchObject({ machineCidr: '192.168.1.0/24', vlan: 42, interface: 'eno1' });
    expect(ocp?.spec.pullSecret).toEqual({ store: 'vault', path: 'secrets/data/openshift/pullsecret', key: 'secret' });
    expect(ocp?.spec.roles.worker?.extraDisks).toEqual([{ sizeGiB: 150, storage: 'local-lvm' }]);
    expect(compiled.openshift.find((c) => c.spec.name === 'ocp-sno1')?.spec.hub).toBe(true);
    const sno3 = compiled.guests.find((g) => g.name === 'master-sno3');
    expect(sno3?.placement.node).toBe('pve4');
    const sno3Node = compiled.openshift.flatMap((c) => c.spec.nodes).find((n) => n.name === 'master-sno3');
    expect(sno3Node?.rootDeviceWwn).toBe('0x5000c50055f2f437');
    // two masters of ocp were pinned to pve3: the second is unpinned so they can land apart
    expect(compiled.guests.find((g) => g.name === 'ocp-node3')?.placement.node).toBeUndefined();
    expect(r.warnings.some((w) => w.message.includes('ocp-node2 and ocp-node3 are control-plane nodes on pve3'))).toBe(true);
  });

  it('uses placeholders without a site config and says so', async () => {
    const r = await importProxShift(INVENTORY);
    expect(r.warnings.some((w) => w.source === 'site:network_defaults' && w.message.includes('placeholders'))).toBe(true);
    const ocp = loadSpecText(specToYaml(r.spec), 'x').compiled.openshift[0]?.spec;
    expect(ocp?.baseDomain).toBe('lab.invalid');
    expect(ocp?.network.machineCidr).toBe('192.168.1.0/24');
  });

  it('starts the VMs on boot as the inventory says and keeps its MACs', async () => {
    const r = await importProxShift(INVENTORY, { site: SITE });
    const { compiled } = loadSpecText(specToYaml(r.spec), 'x');
    expect(compiled.guests.length).toBe(12);
    expect(compiled.guests.every((g) => g.start.onBoot)).toBe(true); // every host says onboot: 1
    type Hosts = Record<string, { nics: { net0: { mac: string } } }>;
    const inv = parse(readFileSync(INVENTORY, 'utf8')) as { all: { children: { clusters: { children: Record<string, { hosts: Hosts }> } } } };
    const macs = new Map<string, string>();
    for (const group of Object.values(inv.all.children.clusters.children)) {
      for (const [host, v] of Object.entries(group.hosts)) if (!macs.has(host)) macs.set(host, v.nics.net0.mac);
    }
    expect(compiled.guests.map((g) => [g.name, g.network.mac])).toEqual(compiled.guests.map((g) => [g.name, macs.get(g.name)]));

    const dir = mkdtempSync(join(tmpdir(), 'phoenix-ps-'));
    const file = join(dir, 'clusters.yml');
    writeFileSync(file, readFileSync(INVENTORY, 'utf8').replace(/(master-sno2:\n(?: {14}.*\n)*? {14}onboot:) 1/, '$1 0'));
    const off = loadSpecText(specToYaml((await importProxShift(file, { site: SITE })).spec), 'x').compiled;
    expect(off.guests.filter((g) => !g.start.onBoot).map((g) => g.name)).toEqual(['master-sno2']);
  });

  it('raises sizes below the agent-based installer minimum, with a warning per host', async () => {
    const r = await importProxShift(INVENTORY, { site: SITE });
    const { compiled } = loadSpecText(specToYaml(r.spec), 'x');
    const disk = (name: string) => compiled.guests.find((g) => g.name === name)?.diskGiB;
    expect([disk('ocp-node1'), disk('ocp-node4'), disk('master-sno2'), disk('ocp3-node1')]).toEqual([120, 100, 120, 120]);
    expect(r.warnings.find((w) => w.source === 'inventory:ocp.hosts.ocp-node1.disks')?.message).toBe(
      "a 100 GB root disk is below the agent-based installer's minimum of 120 GB for a control-plane node; raised to it",
    );
    expect(r.warnings.find((w) => w.source === 'inventory:ocp-sno2.hosts.master-sno2.disks')?.message).toContain('for a single-node cluster');
    expect(r.warnings.some((w) => w.source === 'inventory:ocp.hosts.ocp-node4.disks')).toBe(false); // a 100 GB worker disk is enough
  });

  it('rejects an inventory without clusters, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phoenix-ps-'));
    const file = join(dir, 'empty.yml');
    writeFileSync(file, 'all:\n  children:\n    web: {}\n');
    await expect(importProxShift(file)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'inventory' });
  });
});
