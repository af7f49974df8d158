import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { OPENSHIFT_FAULTS_ENV, emulatorBinDir, setOpenShiftFaults } from './src/index.js';
import { emulatedNodes, lines, sshKey, type TestNode } from './emu-helpers.js';
import type { EmulatedNodes } from '../harness/index.js';

// openshift-install (emulated): the agent-based installer's create image and wait-for commands.
const bin = path.join(emulatorBinDir(), 'openshift-install');
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'oi-test-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function install(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const r = await execa(bin, args, { reject: false, stdin: 'ignore', stripFinalNewline: false, env: { PVE_EMU_TIME_SCALE: '0.01', ...env }, timeout: 30_000 });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

interface HostSpec {
  hostname: string;
  role?: string;
  mac: string;
  ip: string;
}

interface ClusterSpec {
  name: string;
  controlPlane: number;
  compute: number;
  platform: Record<string, unknown>;
  networkType?: string;
  machineNetwork?: string;
  rendezvousIP?: string;
  hosts: HostSpec[];
  pullSecret?: string;
  sshKey?: string;
}

const PULL_SECRET = '{"auths":{"quay.io":{"auth":"c3VwZXItc2VjcmV0Cg=="}}}';

function hostsFor(prefix: string, masters: number, workers: number, base = 20): HostSpec[] {
  const h = (i: number, role: string): HostSpec => ({
    hostname: `${prefix}-${role}-${i}`,
    role,
    mac: `bc:24:11:${prefix.length.toString(16).padStart(2, '0')}:${(base >> 8).toString(16).padStart(2, '0')}:${(base + i + (role === 'worker' ? 10 : 0)).toString(16).padStart(2, '0')}`,
    ip: `192.168.10.${base + i + (role === 'worker' ? 10 : 0)}`,
  });
  return [...Array.from({ length: masters }, (_, i) => h(i, 'master')), ...Array.from({ length: workers }, (_, i) => h(i, 'worker'))];
}

const sno = (name = 'sno1'): ClusterSpec => ({ name, controlPlane: 1, compute: 0, platform: { none: {} }, hosts: hostsFor(name, 1, 0) });
const ha = (name = 'ha1'): ClusterSpec => ({
  name,
  controlPlane: 3,
  compute: 2,
  platform: { baremetal: { apiVIPs: ['192.168.10.5'], ingressVIPs: ['192.168.10.6'] } },
  hosts: hostsFor(name, 3, 2),
});

/** Writes install-config.yaml and agent-config.yaml as an installer user would. */
function writeManifests(spec: ClusterSpec): string {
  const dir = fs.mkdtempSync(path.join(tmpRoot, `${spec.name}-`));
  const ic = {
    apiVersion: 'v1',
    baseDomain: 'lab.example',
    metadata: { name: spec.name },
    controlPlane: { name: 'master', replicas: spec.controlPlane },
    compute: [{ name: 'worker', replicas: spec.compute }],
    networking: {
      networkType: spec.networkType ?? 'OVNKubernetes',
      clusterNetwork: [{ cidr: '10.128.0.0/14', hostPrefix: 23 }],
      machineNetwork: [{ cidr: spec.machineNetwork ?? '192.168.10.0/24' }],
      serviceNetwork: ['172.30.0.0/16'],
    },
    platform: spec.platform,
    pullSecret: spec.pullSecret ?? PULL_SECRET,
    sshKey: spec.sshKey ?? sshKey('core@lab'),
  };
  const ac = {
    apiVersion: 'v1beta1',
    kind: 'AgentConfig',
    metadata: { name: spec.name },
    rendezvousIP: spec.rendezvousIP ?? spec.hosts[0]?.ip,
    hosts: spec.hosts.map((h) => ({
      hostname: h.hostname,
      ...(h.role !== undefined ? { role: h.role } : {}),
      interfaces: [{ name: 'ens18', macAddress: h.mac }],
      networkConfig: {
        interfaces: [{ name: 'ens18', type: 'ethernet', state: 'up', 'mac-address': h.mac, ipv4: { enabled: true, address: [{ ip: h.ip, 'prefix-length': 24 }], dhcp: false } }],
      },
    })),
  };
  fs.writeFileSync(path.join(dir, 'install-config.yaml'), stringify(ic));
  fs.writeFileSync(path.join(dir, 'agent-config.yaml'), stringify(ac));
  return dir;
}

interface StateFile {
  installId: string;
  clusterName: string;
  baseDomain: string;
  rendezvousIP: string;
  hosts: Array<{ hostname: string; role: string; macs: string[] }>;
}

const readState = (dir: string): StateFile => JSON.parse(fs.readFileSync(path.join(dir, '.openshift_install_state.json'), 'utf8')) as StateFile;

describe('agent create image', () => {
  it('writes the ISO, auth files, rendezvousIP and state, and consumes the manifests', async () => {
    const dir = writeManifests(ha());
    const r = await install(['agent', 'create', 'image', '--dir', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([
      'level=info msg=Configuration has 3 master replicas and 2 worker replicas',
      'level=info msg=The rendezvous host IP (node0 IP) is 192.168.10.20',
      'level=info msg=Extracting base ISO from release payload',
      'level=info msg=Base ISO obtained from release and cached at [/root/.cache/agent/image_cache/coreos-x86_64.iso]',
      'level=info msg=Consuming Install Config from target directory',
      'level=info msg=Consuming Agent Config from target directory',
      `level=info msg=Generated ISO at ${dir}/agent.x86_64.iso.`,
    ]);
    expect(fs.existsSync(path.join(dir, 'install-config.yaml'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'agent-config.yaml'))).toBe(false);

    const state = readState(dir);
    expect(state).toMatchObject({ clusterName: 'ha1', baseDomain: 'lab.example', rendezvousIP: '192.168.10.20' });
    expect(state.hosts.map((h) => [h.hostname, h.role])).toEqual([
      ['ha1-master-0', 'master'],
      ['ha1-master-1', 'master'],
      ['ha1-master-2', 'master'],
      ['ha1-worker-0', 'worker'],
      ['ha1-worker-1', 'worker'],
    ]);
    expect(state.hosts[0]?.macs).toEqual([ha().hosts[0]?.mac]);
    const iso = fs.readFileSync(path.join(dir, 'agent.x86_64.iso'), 'utf8');
    expect(iso).toContain(`install-id: ${state.installId}\n`);
    expect(iso).toContain('cluster: ha1.lab.example\n');
    expect(fs.readFileSync(path.join(dir, 'rendezvousIP'), 'utf8')).toBe('192.168.10.20');
    expect(fs.readFileSync(path.join(dir, 'auth', 'kubeadmin-password'), 'utf8')).toMatch(/^[2-9a-zA-Z]{5}-[2-9a-zA-Z]{5}-[2-9a-zA-Z]{5}-[2-9a-zA-Z]{5}$/);
    const kc = fs.readFileSync(path.join(dir, 'auth', 'kubeconfig'), 'utf8');
    expect(kc).toContain('server: https://api.ha1.lab.example:6443\n');
    expect(kc).toMatch(/client-key-data: [A-Za-z0-9+/=]{100,}\n/);
    expect(kc).toContain('current-context: admin\n');

    const log = lines(fs.readFileSync(path.join(dir, '.openshift_install.log'), 'utf8'));
    expect(log.every((l) => /^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" level=(debug|info) msg=/.test(l))).toBe(true);
    expect(log).toContainEqual(expect.stringMatching(/ level=info msg="The rendezvous host IP \(node0 IP\) is 192\.168\.10\.20"$/));
    expect(log).toContainEqual(expect.stringMatching(/ level=debug msg="OpenShift Installer 4\.\d+\.\d+"$/));
  });

  it('gives every run its own install id and password', async () => {
    const a = writeManifests(sno('snoa'));
    const b = writeManifests(sno('snob'));
    expect((await install(['agent', 'create', 'image', '--dir', a])).code).toBe(0);
    expect((await install(['agent', 'create', 'image', '--dir', b])).code).toBe(0);
    expect(readState(a).installId).not.toBe(readState(b).installId);
    expect(fs.readFileSync(path.join(a, 'auth', 'kubeadmin-password'), 'utf8')).not.toBe(fs.readFileSync(path.join(b, 'auth', 'kubeadmin-password'), 'utf8'));
  });

  it('fails a second run once the manifests are consumed, and appends to the log', async () => {
    const dir = writeManifests(sno('sno2'));
    expect((await install(['agent', 'create', 'image', '--dir', dir])).code).toBe(0);
    const before = lines(fs.readFileSync(path.join(dir, '.openshift_install.log'), 'utf8')).length;
    const r = await install(['agent', 'create', 'image', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      'level=fatal msg=failed to fetch Agent Installer ISO: failed to fetch dependency of "Agent Installer ISO": failed to fetch dependency of "Agent Installer Artifacts": failed to fetch dependency of "Agent Installer Ignition": failed to fetch dependency of "Agent Manifests": failed to generate asset "Agent PullSecret": missing configuration or manifest file',
    ]);
    const after = lines(fs.readFileSync(path.join(dir, '.openshift_install.log'), 'utf8'));
    expect(after.length).toBeGreaterThan(before);
    expect(after.at(-1)).toMatch(/ level=fatal msg="failed to fetch Agent Installer ISO: .*missing configuration or manifest file"$/);
  });

  it('shows debug lines at --log-level debug', async () => {
    const r = await install(['agent', 'create', 'image', '--dir', writeManifests(sno('sno3')), '--log-level=debug']);
    expect(r.code).toBe(0);
    expect(lines(r.stderr)[0]).toMatch(/^level=debug msg=OpenShift Installer 4\.\d+\.\d+$/);
  });

  const icError = (msg: string): string => `level=fatal msg=failed to fetch Agent Installer ISO: failed to load asset "Install Config": invalid install-config configuration: ${msg}`;
  const acError = (msg: string): string => `level=fatal msg=failed to fetch Agent Installer ISO: failed to load asset "Agent Config": invalid Agent Config configuration: ${msg}`;
  const ignitionError = (msg: string): string =>
    `level=fatal msg=failed to fetch Agent Installer ISO: failed to fetch dependency of "Agent Installer ISO": failed to fetch dependency of "Agent Installer Artifacts": failed to generate asset "Agent Installer Ignition": ${msg}`;
  const hostsError = (msg: string): string =>
    `level=fatal msg=failed to fetch Agent Installer ISO: failed to fetch dependency of "Agent Installer ISO": failed to fetch dependency of "Agent Installer Artifacts": failed to fetch dependency of "Agent Installer Ignition": failed to fetch dependency of "Agent Manifests": failed to fetch dependency of "NMState Config": failed to generate asset "Agent Hosts": invalid Hosts configuration: ${msg}`;
  const dup = ha('dup');
  dup.hosts[1] = { ...dup.hosts[1]!, mac: dup.hosts[0]!.mac };

  it.each<[string, ClusterSpec, string]>([
    [
      'two control-plane replicas',
      { ...ha('cp2'), controlPlane: 2, hosts: hostsFor('cp2', 2, 2) },
      icError(
        '[controlPlane.fencing.credentials: Forbidden: there should be exactly two fencing credentials to support the two node cluster, instead 0 credentials were found, ControlPlane.Replicas: Invalid value: 2: ControlPlane.Replicas can only be set to 5, 4, 3, or 1. Found 2]',
      ),
    ],
    ['six control-plane replicas', { ...ha('cp6'), controlPlane: 6, hosts: hostsFor('cp6', 3, 0) }, icError('ControlPlane.Replicas: Invalid value: 6: ControlPlane.Replicas can only be set to 5, 4, 3, or 1. Found 6')],
    ['OpenShiftSDN', { ...ha('sdn'), networkType: 'OpenShiftSDN' }, icError('networking.networkType: Invalid value: "OpenShiftSDN": networkType OpenShiftSDN is not supported, please use OVNKubernetes')],
    ['SNO without OVNKubernetes', { ...sno('snocal'), networkType: 'Calico' }, icError('Networking.NetworkType: Invalid value: "Calico": Only OVNKubernetes network type is allowed for Single Node OpenShift (SNO) cluster')],
    [
      'SNO with a worker',
      { ...sno('snow'), compute: 1 },
      icError('Compute.Replicas: Required value: Total number of Compute.Replicas must be 0 when ControlPlane.Replicas is 1 for platform none or external. Found 1'),
    ],
    [
      'SNO on baremetal',
      { ...sno('snobm'), platform: { baremetal: { apiVIPs: ['192.168.10.5'], ingressVIPs: ['192.168.10.6'] } } },
      icError('Platform: Invalid value: "baremetal": Only platform none and external supports 1 ControlPlane and 0 Compute nodes'),
    ],
    [
      'an unsupported platform',
      { ...sno('snoaws'), platform: { aws: { region: 'us-east-1' } } },
      icError('[Platform: Unsupported value: "aws": supported values: "baremetal", "vsphere", "none", "external", Platform: Invalid value: "aws": Only platform none and external supports 1 ControlPlane and 0 Compute nodes]'),
    ],
    [
      'VIPs outside the machine network',
      { ...ha('vip'), platform: { baremetal: { apiVIPs: ['10.0.0.1'], ingressVIPs: ['10.0.0.2'] } } },
      icError(
        '[platform.baremetal.apiVIPs: Invalid value: "10.0.0.1": IP expected to be in one of the machine networks: 192.168.10.0/24, platform.baremetal.ingressVIPs: Invalid value: "10.0.0.2": IP expected to be in one of the machine networks: 192.168.10.0/24]',
      ),
    ],
    ['a missing ingress VIP', { ...ha('novip'), platform: { baremetal: { apiVIPs: ['192.168.10.5'] } } }, icError('platform.baremetal.ingressVIPs: Required value: must specify at least one VIP for the Ingress')],
    [
      'the same VIP for API and ingress',
      { ...ha('samevip'), platform: { baremetal: { apiVIPs: ['192.168.10.5'], ingressVIPs: ['192.168.10.5'] } } },
      icError('platform.baremetal.apiVIPs: Invalid value: "192.168.10.5": VIP for API must not be one of the Ingress VIPs'),
    ],
    ['a pull secret that is not JSON', { ...sno('psjson'), pullSecret: 'x-secret' }, icError(`pullSecret: Invalid value: "x-secret": invalid character 'x' looking for beginning of value`)],
    ['a pull secret that is a bad literal', { ...sno('psnull'), pullSecret: 'nope' }, icError(`pullSecret: Invalid value: "nope": invalid character 'o' in literal null (expecting 'u')`)],
    ['a pull secret without auths', { ...sno('psauth'), pullSecret: '{"x":1}' }, icError('pullSecret: Invalid value: "{\\"x\\":1}": auths required')],
    ['a malformed SSH key', { ...sno('sshbad'), sshKey: 'ssh-rsa AAAA' }, icError('sshKey: Invalid value: "ssh-rsa AAAA": ssh: no key found')],
    ['a cluster name that is not a DNS label', { ...sno('Bad_Name') }, icError(`metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`)],
    ['a rendezvous IP outside the machine network', { ...sno('rvip'), rendezvousIP: '10.1.1.1' }, acError('rendezvousIP: Invalid value: "10.1.1.1": IP expected to be in one of the machine networks: 192.168.10.0/24')],
    ['a host role that is neither master nor worker', { ...sno('role'), hosts: [{ ...hostsFor('role', 1, 0)[0]!, role: 'arbiter' }] }, acError("Spec.Hosts[0].Host: Forbidden: host role has incorrect value. Role must either be 'master' or 'worker'")],
    ['a MAC used twice', dup, hostsError(`Hosts[1].Interfaces[0].macAddress: Invalid value: "${dup.hosts[0]!.mac}": duplicate MAC address found`)],
    ['more master hosts than replicas', { ...ha('many'), hosts: hostsFor('many', 4, 2) }, ignitionError('the number of master hosts defined (4) exceeds the configured ControlPlane replicas (3)')],
    ['more worker hosts than replicas', { ...ha('manyw'), hosts: hostsFor('manyw', 3, 3) }, ignitionError('the number of worker hosts defined (3) exceeds the configured Compute replicas (2)')],
  ])('rejects %s with the installer message, exit 1, nothing written or consumed', async (_what, spec, fatal) => {
    const dir = writeManifests(spec);
    const r = await install(['agent', 'create', 'image', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr).at(-1)).toBe(fatal);
    expect(lines(r.stderr).filter((l) => l.startsWith('level=fatal'))).toHaveLength(1);
    for (const f of ['agent.x86_64.iso', 'auth', '.openshift_install_state.json']) expect(fs.existsSync(path.join(dir, f))).toBe(false);
    for (const f of ['install-config.yaml', 'agent-config.yaml']) expect(fs.existsSync(path.join(dir, f))).toBe(true);
  });

  it('rejects unknown commands and flags as cobra does, exit 1', async () => {
    expect(await install(['agent', 'create', 'iso'])).toEqual({ code: 1, stdout: '', stderr: 'level=fatal msg=Error executing openshift-install: unknown command "iso" for "openshift-install agent create"\n' });
    expect(await install(['agent', 'create', 'image', '--force'])).toEqual({ code: 1, stdout: '', stderr: 'level=fatal msg=Error executing openshift-install: unknown flag: --force\n' });
  });
});

describe('agent wait-for', () => {
  let nodes: TestNode[];
  let handle: EmulatedNodes;
  let nodesEnv: string;
  let nextVmid = 100;
  beforeAll(async () => {
    ({ nodes, handle } = await emulatedNodes({ count: 3, timeScale: 0.001 }));
    nodesEnv = nodes.map((n) => n.stateDir).join(path.delimiter);
  });
  afterAll(async () => {
    await handle.teardown();
  });

  /** Uploads the install's ISO to the node's `local` storage, as the PVE upload API stores it. */
  function uploadIso(node: TestNode, dir: string, name: string): string {
    const isoDir = path.join(node.stateDir, 'storage', 'local', 'template', 'iso');
    fs.mkdirSync(isoDir, { recursive: true });
    fs.copyFileSync(path.join(dir, 'agent.x86_64.iso'), path.join(isoDir, name));
    return `local:iso/${name}`;
  }

  /** Creates a host's VM as a cluster manager would: its MAC on net0, the agent ISO on ide2. */
  async function createVm(node: TestNode, host: HostSpec, iso: string): Promise<number> {
    const vmid = nextVmid++;
    const r = await node.run('qm', ['create', String(vmid), '--name', host.hostname, '--memory', '16384', '--cores', '8', '--cpu', 'host', '--scsihw', 'virtio-scsi-single', '--net0', `virtio=${host.mac.toUpperCase()},bridge=vmbr0`, '--ide2', `${iso},media=cdrom`, '--boot', 'order=scsi0;ide2']);
    if (r.code !== 0) throw new Error(`qm create ${vmid}: ${r.stderr}`);
    return vmid;
  }

  async function start(node: TestNode, vmid: number): Promise<void> {
    const r = await node.run('qm', ['start', String(vmid)]);
    if (r.code !== 0) throw new Error(`qm start ${vmid}: ${r.stderr}`);
  }

  /** Builds the ISO and boots one VM per host, spread over the nodes. */
  async function bootCluster(spec: ClusterSpec): Promise<{ dir: string; vms: Array<[TestNode, number]> }> {
    const dir = writeManifests(spec);
    expect((await install(['agent', 'create', 'image', '--dir', dir])).code).toBe(0);
    const vms: Array<[TestNode, number]> = [];
    for (const [i, host] of spec.hosts.entries()) {
      const node = nodes[i % nodes.length]!;
      const vmid = await createVm(node, host, uploadIso(node, dir, `${spec.name}-agent.x86_64.iso`));
      await start(node, vmid);
      vms.push([node, vmid]);
    }
    return { dir, vms };
  }

  const waitEnv = (scale: string): Record<string, string> => ({ PHOENIX_EMULATOR_NODES: nodesEnv, PVE_EMU_TIME_SCALE: scale });
  const BOOTSTRAP_TIMEOUT = [
    'level=info msg=Use the following commands to gather logs from the cluster',
    'level=info msg=openshift-install gather bootstrap --help',
    'level=error msg=Bootstrap failed to complete: : bootstrap process timed out: context deadline exceeded',
  ];

  it('keeps waiting while the VMs are missing, stopped or booted from another ISO, then times out with exit 5', async () => {
    const spec = sno('wait1');
    const dir = writeManifests(spec);
    expect((await install(['agent', 'create', 'image', '--dir', dir])).code).toBe(0);
    const other = writeManifests(sno('wait1other'));
    expect((await install(['agent', 'create', 'image', '--dir', other])).code).toBe(0);
    const node = nodes[0]!;
    const check = async (): Promise<void> => {
      // 60 minutes at scale 0.0002: 0.72 s.
      const r = await install(['agent', 'wait-for', 'bootstrap-complete', '--dir', dir], waitEnv('0.0002'));
      expect(r.code).toBe(5);
      const out = lines(r.stderr);
      expect(out[0]).toBe('level=info msg=Waiting for cluster install to initialize. Sleeping for 30 seconds');
      expect(out).toContain('level=info msg=Cannot access Rendezvous Host. There may be a network configuration problem, check console for additional info');
      expect(out.slice(-3)).toEqual(BOOTSTRAP_TIMEOUT);
      expect(out.at(-4)).toMatch(/^level=error msg=Attempted to gather ClusterOperator status after wait failure: .*api\.wait1\.lab\.example/);
      expect(out.join('\n')).not.toContain('Cluster is ready for install');
    };
    await check();
    const vmid = await createVm(node, spec.hosts[0]!, uploadIso(node, dir, 'wait1.iso'));
    await check();
    const wrong = await createVm(node, { ...spec.hosts[0]!, mac: 'bc:24:11:ff:ff:01' }, uploadIso(node, other, 'wait1other.iso'));
    expect((await node.run('qm', ['set', String(wrong), '--net0', `virtio=${spec.hosts[0]!.mac},bridge=vmbr0`])).code).toBe(0);
    await node.run('qm', ['destroy', String(vmid)]);
    await start(node, wrong);
    await check();
  });

  it('reports the install of a 3+2 cluster across three nodes, then completes it, then answers promptly', async () => {
    const spec = ha('ha3');
    const { dir, vms } = await bootCluster(spec);
    const b = await install(['agent', 'wait-for', 'bootstrap-complete', '--dir', dir], waitEnv('0.01'));
    expect(b.code).toBe(0);
    const out = lines(b.stderr);
    const at = (msg: string): number => out.indexOf(`level=info msg=${msg}`);
    expect(at('Cluster is ready for install')).toBe(0);
    expect(at('Cluster installation in progress')).toBeGreaterThan(at('Preparing cluster for installation'));
    for (const h of spec.hosts) {
      expect(at(`Host ${h.hostname}: updated status from preparing-successful to installing (Installation is in progress)`)).toBeGreaterThan(at('Cluster installation in progress'));
      const w45 = at(`Host: ${h.hostname}, reached installation stage Writing image to disk: 45%`);
      expect(w45).toBeGreaterThan(at(`Host: ${h.hostname}, reached installation stage Writing image to disk: 25%`));
      expect(at(`Host: ${h.hostname}, reached installation stage Writing image to disk: 100%`)).toBeGreaterThan(w45);
    }
    expect(at('Host: ha3-master-0, reached installation stage Starting installation: bootstrap')).toBeGreaterThan(0);
    expect(at('Host: ha3-worker-1, reached installation stage Starting installation: worker')).toBeGreaterThan(0);
    expect(at('Bootstrap Kube API Initialized')).toBeGreaterThan(at('Host: ha3-master-2, reached installation stage Writing image to disk: 100%'));
    expect(out.slice(-2)).toEqual(['level=info msg=Bootstrap is complete', 'level=info msg=cluster bootstrap is complete']);
    expect(out.join('\n')).not.toContain('Cluster is installed');

    const i = await install(['agent', 'wait-for', 'install-complete', '--dir', dir], waitEnv('0.01'));
    expect(i.code).toBe(0);
    const pw = fs.readFileSync(path.join(dir, 'auth', 'kubeadmin-password'), 'utf8');
    const tail = [
      'level=info msg=Bootstrap is complete',
      'level=info msg=cluster bootstrap is complete',
      'level=info msg=Cluster is installed',
      'level=info msg=Install complete!',
      "level=info msg=To access the cluster as the system:admin user when using 'oc', run",
      `level=info msg=    export KUBECONFIG=${dir}/auth/kubeconfig`,
      'level=info msg=Access the OpenShift web-console here: https://console-openshift-console.apps.ha3.lab.example',
      `level=info msg=Login to the console with user: "kubeadmin", and password: "${pw}"`,
    ];
    expect(lines(i.stderr).slice(-tail.length)).toEqual(tail);
    const log = fs.readFileSync(path.join(dir, '.openshift_install.log'), 'utf8');
    expect(log).toMatch(/ level=info msg="To access the cluster as the system:admin user when using 'oc', run\\n {4}export KUBECONFIG=.*\/auth\/kubeconfig"\n/);
    expect(log).toMatch(/ level=info msg="Host: ha3-worker-0, reached installation stage Writing image to disk: 45%"\n/);

    // Installed: the ISO and the VMs' state no longer matter.
    for (const [node, vmid] of vms) expect((await node.run('qm', ['stop', String(vmid)])).code).toBe(0);
    const again = await install(['agent', 'wait-for', 'install-complete', '--dir', dir], waitEnv('1'));
    expect(again.code).toBe(0);
    expect(lines(again.stderr)).toEqual(['level=info msg=Bootstrap Kube API Initialized', 'level=info msg=Bootstrap configMap status is complete', ...tail]);
  });

  it('waits for hosts that boot later, then installs a single-node cluster', async () => {
    const spec = sno('late');
    const dir = writeManifests(spec);
    expect((await install(['agent', 'create', 'image', '--dir', dir])).code).toBe(0);
    const node = nodes[1]!;
    const vmid = await createVm(node, spec.hosts[0]!, uploadIso(node, dir, 'late.iso'));
    const proc = execa(bin, ['agent', 'wait-for', 'install-complete', '--dir', dir], { reject: false, stdin: 'ignore', env: waitEnv('0.01') });
    let seen = '';
    await new Promise<void>((resolve) => {
      proc.stderr.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('Waiting for cluster install to initialize')) resolve();
      });
    });
    expect(seen).not.toContain('Cluster is ready for install');
    await start(node, vmid);
    const r = await proc;
    expect(r.exitCode).toBe(0);
    const out = lines(String(r.stderr));
    expect(out).toContain('level=info msg=Host: late-master-0, reached installation stage Waiting for bootkube');
    expect(out.indexOf('level=info msg=Cluster is ready for install')).toBeGreaterThan(out.indexOf('level=info msg=Waiting for cluster install to initialize. Sleeping for 30 seconds'));
    expect(out).toContain('level=info msg=Access the OpenShift web-console here: https://console-openshift-console.apps.late.lab.example');
  });

  describe('faults', () => {
    const faultFile = path.join(tmpRoot, 'openshift-faults.json');
    const faultEnv = (scale: string): Record<string, string> => ({ ...waitEnv(scale), [OPENSHIFT_FAULTS_ENV]: faultFile });

    it('bootstrapTimeout: the hosts write their image, bootstrap never completes, exit 5 after the timeout', async () => {
      const { dir } = await bootCluster(sno('fbt'));
      setOpenShiftFaults(faultFile, { bootstrapTimeout: true });
      // 60 minutes at scale 0.0005: 1.8 s.
      const r = await install(['agent', 'wait-for', 'install-complete', '--dir', dir], faultEnv('0.0005'));
      expect(r.code).toBe(5);
      const out = lines(r.stderr);
      expect(out).toContain('level=info msg=Host: fbt-master-0, reached installation stage Writing image to disk: 100%');
      expect(out.join('\n')).not.toContain('Bootstrap Kube API Initialized');
      expect(out.slice(-3)).toEqual(BOOTSTRAP_TIMEOUT);
      // The file is read on each run: without the fault the same cluster bootstraps.
      setOpenShiftFaults(faultFile, {});
      const ok = await install(['agent', 'wait-for', 'bootstrap-complete', '--dir', dir], faultEnv('0.001'));
      expect(ok.code).toBe(0);
      expect(lines(ok.stderr).at(-1)).toBe('level=info msg=cluster bootstrap is complete');
    });

    it('hostError on a control-plane host: the host goes to error, bootstrap fails with exit 5', async () => {
      const { dir } = await bootCluster({ ...ha('fhm'), compute: 0, hosts: hostsFor('fhm', 3, 0) });
      setOpenShiftFaults(faultFile, { hostError: 'fhm-master-1' });
      const r = await install(['agent', 'wait-for', 'bootstrap-complete', '--dir', dir], faultEnv('0.0005'));
      expect(r.code).toBe(5);
      const out = lines(r.stderr);
      expect(out).toContain(
        'level=warning msg=Host fhm-master-1: updated status from installing-in-progress to error (Host failed to install because its installation stage Writing image to disk took longer than expected 20m0s)',
      );
      expect(out).toContain('level=info msg=Cluster has hosts in error');
      expect(out).not.toContain('level=info msg=Host: fhm-master-1, reached installation stage Writing image to disk: 100%');
      expect(out).toContain('level=info msg=Host: fhm-master-2, reached installation stage Writing image to disk: 100%');
      expect(out.slice(-3)).toEqual(BOOTSTRAP_TIMEOUT);
    });

    it('hostError on a worker: bootstrap completes, the installation does not, exit 6', async () => {
      const { dir } = await bootCluster(ha('fhw'));
      setOpenShiftFaults(faultFile, { hostError: 'fhw-worker-1' });
      const b = await install(['agent', 'wait-for', 'bootstrap-complete', '--dir', dir], faultEnv('0.001'));
      expect(b.code).toBe(0);
      expect(lines(b.stderr)).toContain('level=warning msg=Host fhw-worker-1: updated status from installing-in-progress to error (Host failed to install because its installation stage Writing image to disk took longer than expected 20m0s)');
      // 90 minutes at scale 0.0005: 2.7 s.
      const i = await install(['agent', 'wait-for', 'install-complete', '--dir', dir], faultEnv('0.0005'));
      expect(i.code).toBe(6);
      const out = lines(i.stderr);
      expect(out).toContain('level=info msg=cluster bootstrap is complete');
      expect(out).not.toContain('level=info msg=Cluster is installed');
      expect(out.slice(-4)).toEqual([
        'level=error msg=Cluster installation timed out: context deadline exceeded',
        'level=error msg=Cluster initialization failed because one or more operators are not functioning properly.',
        'level=error msg=\t\t\t\tThe cluster should be accessible for troubleshooting as detailed in the documentation linked below,',
        'level=error msg=\t\t\t\thttps://docs.openshift.com/container-platform/latest/support/troubleshooting/troubleshooting-installations.html',
      ]);
    });
  });
});
