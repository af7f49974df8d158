import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSpecText } from '../../spec/load.js';
import type { ContainerSpec, VmSpec } from '../../spec/guest.js';
import type { Spec } from '../../spec/spec.js';
import { golden } from '../golden.js';
import { specToYaml } from '../output.js';
import { importPhoenix, type PhoenixImportResult } from './index.js';

const FIX = (p: string) => fileURLToPath(new URL(`../__fixtures__/${p}`, import.meta.url));
const EXAMPLE = (p: string) => fileURLToPath(new URL(`../../../../examples/${p}`, import.meta.url));
const SETS = {
  e4: EXAMPLE('phoenix'),
  orchestrator: EXAMPLE('phoenix/orchestrator-era'),
  e0: FIX('phoenix-e0'),
  e1: FIX('phoenix-e1'),
} as const;

function yamlOf(r: PhoenixImportResult): string {
  return specToYaml(r.spec, [r.summary]);
}

/** The guests as the import declared them (after zod defaults), by name. */
function declared(spec: Spec): Map<string, ContainerSpec | VmSpec> {
  return new Map([...spec.containers, ...spec.vms].map((x) => [x.name, x]));
}

function warned(r: PhoenixImportResult, source: string, text: string): boolean {
  return r.warnings.some((w) => w.source.includes(source) && w.message.includes(text));
}

describe.each(Object.entries(SETS))('import phoenix (%s)', (name, dir) => {
  it('matches the golden spec and round-trips through validate', async () => {
    const r = await importPhoenix(dir);
    const text = yamlOf(r);
    expect(text).toBe(golden(`phoenix-${name}.yaml`, text));
    const { spec, compiled } = loadSpecText(text, `phoenix-${name}.yaml`);
    expect(compiled.guests.length).toBe((spec.containers.length) + spec.vms.length);
    // a second import gives the same spec
    expect(yamlOf(await importPhoenix(dir))).toBe(text);
  });
});

describe('import phoenix semantics', () => {
  it('reads E4: string CTIDs, integer VMIDs, dependencies across containers and VMs, the firewall under shared_volumes', async () => {
    const r = await importPhoenix(SETS.e4);
    expect(r.era).toBe('E4');
    const { spec, compiled } = loadSpecText(yamlOf(r), 'e4');
    const d = declared(spec);
    const g = new Map(compiled.guests.map((x) => [x.name, x]));
    expect(g.get('Copy-Cuda12.8')?.vmid).toBe(901);
    expect(g.get('Copy-Cuda12.8')?.dependencies).toEqual(['drphoenix']); // LXC → VM 1002
    expect(g.get('Portainer')?.dependencies).toEqual(['Traefik-Internal']); // VM → LXC 102
    expect(g.get('Copy-Cuda12.8')?.gpu).toMatchObject({ count: 2, devices: [0, 1], passthrough: 'device' }); // "0, 1"
    expect(g.get('granite-embedding')?.ancestors).toEqual(['Copy-VLLM-GPU0', 'Copy-Cuda12.8', 'Copy-Base']);
    expect(g.get('drphoenix')?.template?.guest).toBe('ubuntu-2404-cloud-template');
    const fw = compiled.hostProfiles['phoenix']?.firewall;
    expect(fw?.policyIn).toBe('DROP');
    expect(fw?.rules).toHaveLength(6);
    expect(compiled.hostProfiles['phoenix']?.nvidia?.driverVersion).toBe('580.76.05');
    // root nvidia_driver_version equals the host driver: no per-guest override
    expect(g.get('Copy-Cuda12.8')?.gpu?.driverVersion).toBeUndefined();
    // storage ids: <pool>-<dataset>, the OS template found on the dataset that holds its path
    const ids = compiled.hostProfiles['phoenix']?.zfs?.datasets.map((d) => d.storage?.id);
    expect(ids).toContain('quickOS-lxc-disks');
    expect(compiled.templates.get('ubuntu-24.04-standard')?.storage).toBe('fastData-shared-iso');
    // raw lxc lines are kept whole; E4's idmap entries are kept
    const nginx = d.get('Nginx-Phoenix') as ContainerSpec;
    expect(nginx.lxcRaw).toEqual(['lxc.mount.auto: sys:rw']);
    expect(nginx.idmap).toEqual([{ type: 'gid', containerId: 33, hostId: 33, size: 1 }]);
    // final-form is the template snapshot: it is not re-taken as a lifecycle snapshot
    expect((d.get('Copy-Base') as ContainerSpec).lifecycleSnapshots).toEqual({ beforeFeatures: 'pre-configured' });
    // VM docker_stacks were strings; the stack manifest's firewall rules came along
    expect((d.get('drphoenix') as VmSpec).dockerStacks).toEqual([
      { name: 'qdrant_service', environment: 'production' },
      { name: 'thinkheads_ai_app', environment: 'production' },
    ]);
    expect(compiled.stacks.get('qdrant_service')?.environments['production']?.firewall).toHaveLength(2);
  });

  it('never copies a secret value: passwords become references or warnings', async () => {
    const r = await importPhoenix(SETS.e4);
    const text = yamlOf(r);
    expect(text).not.toContain('REDACTED_PLACEHOLDER');
    expect(text).not.toContain('PROD_SECRET_PASSWORD');
    expect(text).not.toContain('TEST_SECRET_PASSWORD');
    expect(text).toContain('key: DATABASE_PASS');
    expect(JSON.stringify(r.warnings)).not.toContain('SECRET_PASSWORD');
    expect(warned(r, 'portainer_api', 'secret store')).toBe(true);
    expect(warned(r, 'samba', 'passwordRef')).toBe(true);
  });

  it('reads the orchestrator era: string dns_nameservers, a VM file, clashes resolved with a warning', async () => {
    const r = await importPhoenix(SETS.orchestrator);
    expect(r.era).toBe('E2/E3');
    const { spec, compiled } = loadSpecText(yamlOf(r), 'e2');
    const d = declared(spec);
    const g = new Map(compiled.guests.map((x) => [x.name, x]));
    expect(compiled.hostProfiles['phoenix']?.network?.nameservers).toEqual(['8.8.8.8']);
    expect(g.get('docker-vm-01')?.template?.guest).toBe('ubuntu-2404-cloud-template');
    expect((d.get('docker-vm-01') as VmSpec).lifecycleSnapshots).toEqual({ afterFeatures: 'initial' });
    // 8001 and the test container 101 share 10.0.0.101 in the data
    expect(g.get('docker-vm-01')?.network.ip).toBe('dhcp');
    expect(warned(r, 'docker-vm-01.network.ip', 'also test-base-setup')).toBe(true);
    expect(warned(r, 'lxc_configs.901.gpu_assignment', 'bound only GPU 0')).toBe(true);
    expect(warned(r, 'lxc_configs.950.vllm_parameters', 'never read')).toBe(true);
    expect(d.get('vllm-qwen2.5-7b-awq')).toMatchObject({ appConfig: { vllm: { model: 'Qwen/Qwen2.5-7B-Instruct-AWQ' } } });
    // the firewall was read from the top level in this era's code, but the data keeps it under shared_volumes
    expect(compiled.hostProfiles['phoenix']?.firewall?.policyIn).toBe('DROP');
  });

  it('reads E0: a Proxmox feature string, privileged GPU containers, the etc/ layout', async () => {
    const r = await importPhoenix(SETS.e0);
    expect(r.era).toBe('E0');
    const { spec, compiled } = loadSpecText(yamlOf(r), 'e0');
    const d = declared(spec);
    const gpu0 = d.get('drcuda-gpu0') as ContainerSpec;
    expect(gpu0.pveFeatures).toEqual({ nesting: true, keyctl: true });
    expect(gpu0.unprivileged).toBe(false);
    expect(gpu0.features).toBeUndefined();
    expect(compiled.guests.find((x) => x.name === 'drcuda-dual')?.gpu?.devices).toEqual([0, 1]);
    expect(compiled.templates.get('ubuntu-24.04-standard')?.storage).toBe('local');
    expect(warned(r, 'phoenix_hypervisor_config.sh', 'shell file')).toBe(true);
  });

  it('reads E1: inline VMs without VMIDs, shared volumes mounted, root fallback, storage id override', async () => {
    const r = await importPhoenix(SETS.e1);
    expect(r.era).toBe('E1');
    const { spec, compiled } = loadSpecText(yamlOf(r), 'e1');
    const d = declared(spec);
    const g = new Map(compiled.guests.map((x) => [x.name, x]));
    expect(compiled.nodes[0]?.name).toBe('pve-lab');
    expect(g.get('webserver-vm')?.vmid).toBeUndefined();
    expect(g.get('webserver-vm')?.memoryMiB).toBe(4096);
    expect(g.get('build-vm')?.memoryMiB).toBe(8192); // from vm_defaults
    expect(g.get('vllm-qwen')?.mounts).toContainEqual({ type: 'bind', hostPath: '/fastData/shared-bulk-data/vllm_models', path: '/vllm_models', readOnly: false });
    // the root lxc_options reached containers without their own (lists fall back before E4)
    expect((d.get('Template-Base') as ContainerSpec).apparmor).toEqual({ profile: 'unconfined', allowNesting: false });
    expect((d.get('Nginx-Gateway') as ContainerSpec).lxcRaw).toEqual([
      'lxc.cap.keep: sys_admin mknod',
      'lxc.mount.entry: /dev/fuse dev/fuse none bind,create=file',
    ]);
    expect(d.get('Nginx-Gateway')).toMatchObject({ healthCheck: { command: ['curl', '-s', '--fail', 'http://localhost:80'], retries: 4, intervalSeconds: 3 } });
    const datasets = compiled.hostProfiles['pve-lab']?.zfs?.datasets ?? [];
    expect(datasets.find((d) => d.name === 'fastData/lxc-disks')?.storage?.id).toBe('lxc-disks'); // exact key match
    expect(datasets.find((d) => d.name === 'fastData/shared-iso')?.storage?.id).toBe('fastData-shared-iso'); // fastdata_iso: no match
    expect(compiled.hostProfiles['pve-lab']?.zfs?.pools[0]?.layout).toBe('raidz1');
    expect(compiled.hostProfiles['pve-lab']?.nfs?.exports[0]).toEqual({ path: '/fastData/shared-bulk-data', clients: ['10.1.0.20', '10.1.0.21'], options: ['rw', 'sync', 'no_subtree_check'] });
    expect(g.get('monitoring')?.dependencies).toEqual(['Nginx-Gateway']);
    expect(warned(r, 'monitoring.dependencies', '999')).toBe(true);
    expect(warned(r, 'container monitoring', 'privilege mode')).toBe(true);
    expect(compiled.features.get('prometheus')?.script).toContain('install_prometheus.sh');
    expect(warned(r, 'shared_volumes.vllm_models.mounts.960', 'already mounts')).toBe(false);
  });

  it('fails with exit code 2 naming the directory when it holds no Phoenix files', async () => {
    await expect(importPhoenix(EXAMPLE('proxshift'))).rejects.toThrowError(/^config-dir: holds none of phoenix_hypervisor_config\.json/);
    await expect(importPhoenix(FIX('does-not-exist'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'config-dir' });
  });
});
