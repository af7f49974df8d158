import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, exitCodeOf } from '@phoenix/shared';
import { compileSpec } from './compile.js';
import { SpecError } from './errors.js';
import { loadSpecText, parseSpec } from './load.js';
import type { SpecInput } from './spec.js';

const EXAMPLE = readFileSync(new URL('../../examples/lab.yaml', import.meta.url), 'utf8');

function base(): SpecInput {
  return {
    version: 1,
    cluster: { name: 'lab' },
    nodes: [{ name: 'pve1' }, { name: 'pve2' }],
    networks: [
      { name: 'lan', bridge: 'vmbr0', cidr: '10.0.0.0/24', gateway: '10.0.0.1', pools: [{ name: 'guests', range: '10.0.0.100-10.0.0.150' }] },
    ],
    templates: [
      { kind: 'os-template', name: 'ubuntu', file: 'ubuntu-24.04-standard_24.04-2_amd64.tar.zst' },
      { kind: 'guest', name: 'base', guest: 'base' },
    ],
    containers: [
      { name: 'base', vmid: 900, template: 'ubuntu', snapshotAsTemplate: 'final-form', features: ['base_setup'] },
      { name: 'web', template: 'base', network: { network: 'lan', ip: '10.0.0.10/24' } },
    ],
  };
}

/** Compiles and returns the error lines (fails the test if it compiles). */
function errorsOf(spec: SpecInput): string[] {
  try {
    compileSpec(parseSpec(spec));
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    expect(exitCodeOf(err)).toBe(2);
    return [...(err as SpecError).lines];
  }
  throw new Error('expected the spec to be rejected');
}

describe('compileSpec', () => {
  it('compiles the example and resolves defaults, templates and the build order', () => {
    const { compiled } = loadSpecText(EXAMPLE, 'lab.yaml');
    const byName = new Map(compiled.guests.map((g) => [g.name, g]));
    const granite = byName.get('granite-embedding');
    expect(granite?.template?.guest).toBe('cuda');
    expect(granite?.template?.snapshot).toBe('final-form');
    expect(granite?.ancestors).toEqual(['cuda', 'base']);
    expect(granite?.network.bridge).toBe('vmbr0'); // from network lan via defaults.container.network
    expect(granite?.network.gateway).toBe('10.0.0.1');
    expect(granite?.gpu?.passthrough).toBe('device');
    const web2 = byName.get('web-2');
    expect(web2?.storage).toBe('local-zfs'); // defaults.container.storage
    expect(web2?.swapMiB).toBe(512); // built-in default
    expect(byName.get('ci-runner')?.template?.snapshot).toBeUndefined(); // Proxmox template: cloned whole
    const order = compiled.buildOrder;
    expect(order.indexOf('base')).toBeLessThan(order.indexOf('cuda'));
    expect(order.indexOf('cuda')).toBeLessThan(order.indexOf('granite-embedding'));
    expect(order.indexOf('web-1')).toBeLessThan(order.indexOf('db'));
    expect(order.indexOf('ubuntu-cloud')).toBeLessThan(order.indexOf('ci-runner'));
  });

  it('compiles each kind into its own section with every default applied', () => {
    const spec = base();
    spec.defaults = { container: { unprivileged: false } };
    spec.containers?.push({
      name: 'app',
      template: 'ubuntu',
      unprivileged: false,
      pveFeatures: { nesting: true },
      idmap: [{ type: 'uid', containerId: 1000, hostId: 1000 }],
      lxcRaw: ['lxc.mount.auto: sys:rw'],
      applicationScript: 'app.sh',
      appConfig: { base_setup: { user: 'ops', port: 8080, nested: { no: 1 } } },
      features: ['base_setup'],
      start: { onBoot: true, order: 2 },
      tags: ['web'],
    });
    spec.containers![0] = { ...spec.containers![0]!, unprivileged: false };
    spec.vms = [{ name: 'vm', template: 'cloud', convertToTemplate: true, bios: 'ovmf', cloudInit: { user: 'ops' }, gpu: { count: 1, devices: [3] } }];
    spec.templates?.push({ kind: 'cloud-image', name: 'cloud', file: 'noble.img' });
    const byName = new Map(compileSpec(parseSpec(spec)).guests.map((g) => [g.name, g]));
    const app = byName.get('app');
    expect(app?.kind).toBe('container');
    if (app?.kind !== 'container') return;
    expect(app.lxc).toEqual({
      unprivileged: false,
      pveFeatures: { nesting: true, keyctl: false, fuse: false, mknod: false, mount: [] },
      apparmor: undefined,
      idmap: [{ type: 'uid', containerId: 1000, hostId: 1000, size: 1 }],
      rawLines: ['lxc.mount.auto: sys:rw'],
    });
    expect(app.features).toEqual([{ name: 'base_setup', params: { user: 'ops', port: '8080' } }]);
    expect(app.applicationScript).toBe('app.sh');
    expect(app.start).toEqual({ onBoot: true, order: 2, upDelaySeconds: 0, downDelaySeconds: 0 });
    expect(app.tags).toEqual(['web']);
    expect(app.description).toBe('');
    const vm = byName.get('vm');
    expect(vm?.kind).toBe('vm');
    if (vm?.kind !== 'vm') return;
    expect(vm.vm).toMatchObject({ bios: 'ovmf', convertToTemplate: true, cloudInit: { user: 'ops' }, openshift: undefined });
    expect(vm.gpu).toMatchObject({ count: 1, devices: [3], passthrough: 'pci' });
    expect(vm.swapMiB).toBe(0);
  });

  it('names the path and the value of an unknown field, a wrong type and a bad enum', () => {
    const spec = base() as Record<string, unknown>;
    (spec['containers'] as Record<string, unknown>[])[1] = { name: 'web', template: 'base', cpus: 4, memoryMiB: 'lots' };
    (spec as { scheduling: unknown }).scheduling = { strategy: 'random' };
    const lines = errorsOf(spec as SpecInput);
    expect(lines).toContainEqual('containers.1.cpus: unknown field (got 4)');
    expect(lines.some((l) => l.startsWith('containers.1.memoryMiB:') && l.endsWith('(got "lots")'))).toBe(true);
    expect(lines.some((l) => l.startsWith('scheduling.strategy:') && l.includes('"random"'))).toBe(true);
  });

  it('rejects unknown templates, dependencies, networks, pools and features', () => {
    const spec = base();
    spec.containers?.push(
      { name: 'a', template: 'nope' },
      { name: 'b', template: 'base', dependencies: ['ghost'], network: { network: 'wan' } },
      { name: 'c', template: 'base', network: { pool: 'missing' }, features: ['teleport'] },
    );
    const lines = errorsOf(spec);
    expect(lines).toContain('containers.2.template: unknown template (got "nope")');
    expect(lines).toContain('containers.3.dependencies.0: unknown guest (got "ghost")');
    expect(lines).toContain('containers.3.network.network: unknown network (got "wan")');
    expect(lines).toContain('containers.4.network.pool: unknown IP pool (got "missing")');
    expect(lines).toContain('containers.4.features.0: unknown feature (not built in, not in features) (got "teleport")');
  });

  it('rejects duplicate names, VMIDs, IPs and MACs across containers and VMs', () => {
    const spec = base();
    spec.containers?.push({ name: 'web', template: 'base' });
    spec.vms = [
      { name: 'vm1', vmid: 900, network: { ip: '10.0.0.10/24', mac: '52:54:00:00:00:01' } },
      { name: 'vm2', network: { mac: '52:54:00:00:00:01' } },
    ];
    const lines = errorsOf(spec);
    expect(lines).toContain('containers.2.name: duplicate guest name (got "web")');
    expect(lines).toContain('vms.0.vmid: also used by guest "base" (got 900)');
    expect(lines).toContain('vms.0.network.ip: address also used by guest "web" (got "10.0.0.10/24")');
    expect(lines).toContain('vms.1.network.mac: MAC also used by guest "vm1" (got "52:54:00:00:00:01")');
  });

  it('checks addresses against their network and pool ranges against the subnet', () => {
    const spec = base();
    spec.networks?.push({ name: 'bad', bridge: 'vmbr1', cidr: '192.168.5.0/24', gateway: '10.9.9.9', pools: [{ name: 'p2', range: '192.168.6.1-192.168.6.9' }] });
    spec.containers?.push({ name: 'x', template: 'base', network: { network: 'lan', ip: '10.0.1.5/24' } });
    const lines = errorsOf(spec);
    expect(lines).toContain('networks.1.gateway: not inside 192.168.5.0/24 (got "10.9.9.9")');
    expect(lines).toContain('networks.1.pools.0.range: range must lie inside 192.168.5.0/24 (got "192.168.6.1-192.168.6.9")');
    expect(lines).toContain('containers.2.network.ip: not inside network lan (10.0.0.0/24) (got "10.0.1.5/24")');
  });

  it('finds template and dependency cycles and names the guests on them', () => {
    const spec = base();
    spec.templates?.push({ kind: 'guest', name: 't-a', guest: 'a', snapshot: 'snap' }, { kind: 'guest', name: 't-b', guest: 'b', snapshot: 'snap' });
    spec.containers?.push({ name: 'a', template: 't-b' }, { name: 'b', template: 't-a' });
    const lines = errorsOf(spec);
    expect(lines.some((l) => l.includes('template/dependency cycle') && l.includes('"a"') && l.includes('"b"'))).toBe(true);
  });

  it('needs a snapshot for container templates and forbids one for Proxmox templates', () => {
    const spec = base();
    spec.templates?.push({ kind: 'guest', name: 'web-t', guest: 'web' });
    spec.vms = [
      { name: 'img', convertToTemplate: true },
      { name: 'clone', template: 'img-t' },
    ];
    spec.templates?.push({ kind: 'guest', name: 'img-t', guest: 'img', snapshot: 'snap1' });
    const lines = errorsOf(spec);
    expect(lines).toContain('templates.2.snapshot: clones need a snapshot: set snapshot here or snapshotAsTemplate on "web"');
    expect(lines).toContain('templates.3.snapshot: "img" becomes a Proxmox template, which is cloned whole (got "snap1")');
  });

  it('checks the kinds a template can make and the features a guest needs', () => {
    const spec = base();
    spec.vms = [{ name: 'v', template: 'ubuntu' }];
    spec.containers?.push({ name: 'llm', template: 'base', features: ['vllm'] }, { name: 'ct', template: 'base', unprivileged: false });
    const lines = errorsOf(spec);
    expect(lines).toContain('vms.0.template: an os-template makes containers; a VM needs a cloud-image or VM template (got "ubuntu")');
    expect(lines).toContain('containers.2.features.0: needs feature "nvidia" on this guest or a template it comes from (got "vllm")');
    expect(lines).toContain('containers.3.unprivileged: a clone keeps the mode of "base" (unprivileged: true) (got false)');
  });

  it('accepts a requirement met by a template guest further up the chain', () => {
    const spec = base();
    spec.templates?.push({ kind: 'guest', name: 'gpu', guest: 'gpu' });
    spec.containers?.push(
      { name: 'gpu', template: 'base', features: ['nvidia'], snapshotAsTemplate: 'ready' },
      { name: 'llm', template: 'gpu', features: ['vllm'] },
    );
    const compiled = compileSpec(parseSpec(spec));
    expect(compiled.guests.find((g) => g.name === 'llm')?.ancestors).toEqual(['gpu', 'base']);
  });

  it('checks OpenShift topology, VIPs, node addresses and distinct control-plane pins', () => {
    const ref = { store: 'vault' as const, path: 'secrets/data/openshift/pull', key: 'secret' };
    const spec = base();
    spec.openshift = [
      {
        name: 'ocp',
        topology: 'compact',
        baseDomain: 'lab.example.org',
        version: '4.19.1',
        apiVip: '10.0.0.20',
        network: { machineCidr: '10.0.0.0/24', gateway: '10.0.0.1', nameservers: ['10.0.0.1'] },
        roles: { controlPlane: { cores: 8, memoryMiB: 16384, diskGiB: 120 } },
        nodes: [
          { name: 'm1', role: 'control-plane', ip: '10.0.0.31', placement: { node: 'pve1' } },
          { name: 'm2', role: 'control-plane', ip: '10.9.0.32', placement: { node: 'pve1' } },
        ],
        pullSecret: ref,
        sshKey: ref,
      },
    ];
    const lines = errorsOf(spec);
    expect(lines).toContain('openshift.0.nodes: topology compact needs 3 control-plane nodes and no workers (got "2 control-plane, 0 worker")');
    expect(lines).toContain('openshift.0.ingressVip: required for a compact cluster');
    expect(lines).toContain('openshift.0.nodes.1.ip: not inside 10.0.0.0/24 (got "10.9.0.32")');
    expect(lines).toContain('openshift.0.nodes.1.placement.node: control-plane nodes must be on distinct nodes; m1 is pinned there too (got "pve1")');
  });

  it('never accepts a credential value where a secret reference belongs', () => {
    const spec = base() as Record<string, unknown>;
    spec['openshift'] = [
      {
        name: 'sno',
        topology: 'sno',
        baseDomain: 'lab.example.org',
        version: '4.19.1',
        network: { machineCidr: '10.0.0.0/24', gateway: '10.0.0.1', nameservers: ['10.0.0.1'] },
        roles: { controlPlane: { cores: 8, memoryMiB: 16384, diskGiB: 120 } },
        nodes: [{ name: 'm1', role: 'control-plane' }],
        pullSecret: '{"auths":{}}',
        sshKey: { store: 'vault', path: 'p', value: 'ssh-ed25519 AAAA' },
      },
    ];
    const lines = errorsOf(spec as SpecInput);
    expect(lines.some((l) => l.startsWith('openshift.0.pullSecret:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('openshift.0.sshKey.value: unknown field'))).toBe(true);
  });

  it('reports YAML syntax errors with the source and the line', () => {
    expect(() => loadSpecText('version: 1\ncluster: [unclosed\n', 'broken.yaml')).toThrowError(InvalidArgumentError);
    expect(() => loadSpecText('version: 1\ncluster: {name: a}\ncluster: {name: b}\n', 'dup.yaml')).toThrowError(
      /^dup\.yaml: not valid YAML.*\(got "line 3, column 1"\)$/,
    );
  });
});
