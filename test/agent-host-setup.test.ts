/**
 * Host setup through a real agent process over mTLS against an emulated node that starts with
 * nothing but its disks: the newest seed hypervisor config (examples/phoenix) is imported,
 * compiled to the node's host spec and sent as SetupHost. A dry run changes nothing (the whole
 * state directory is compared), a real run converges, a second run makes no mutating call, a pool
 * on a disk that holds data is refused with nothing done, and a container with a custom AppArmor
 * profile and an idmap starts only once the host is set up; the seed's firewall lands in cluster.fw and host.fw. Needs `npx tsc -b` first.
 */
import { readFileSync, statSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentv1, type TlsMaterial } from '@phoenix/shared';
import { importPhoenix } from '../coordinator/src/importers/index.js';
import { compileSpec } from '../coordinator/src/spec/compile.js';
import { compileHost } from '../coordinator/src/spec/host-compile.js';
import { parseSpec } from '../coordinator/src/spec/load.js';
import { mutatingCalls } from './emulator/src/index.js';
import { AgentProcess, repoRoot } from './harness/agent-process.js';
import { createTestPki, type TestPki } from './harness/certs.js';
import { startNodes, type EmulatedNode, type EmulatedNodes } from './harness/index.js';
import { emu as emuTool, logs, setupHost, snapshot as nodeState, steps } from './host-setup-client.js';

const TEMPLATE_FILE = 'debian-12-standard_12.7-1_amd64.tar.zst';
const BY_ID = '/dev/disk/by-id/';
const QUICK_A = `${BY_ID}nvme-Samsung_SSD_990_EVO_Plus_2TB_S7U6NJ0Y320880M`;
const QUICK_B = `${BY_ID}nvme-Samsung_SSD_990_EVO_Plus_2TB_S7U6NJ0Y310536X`;
const FAST = `${BY_ID}nvme-Samsung_SSD_990_EVO_Plus_4TB_S7U8NJ0Y402334Y`;
const USED = `${BY_ID}ata-WDC_WD40EFRX-68N32N0_WD-WCC7K0XXXXXX`;

let pki: TestPki;
let agent: AgentProcess;
let emulated: EmulatedNodes;
let node: EmulatedNode;
let tls: TlsMaterial;
let hostSpec: agentv1.HostSpec;

const emu = (tool: string, args: string[]) => emuTool(node, tool, args);
const setup = (spec: agentv1.HostSpec, dryRun: boolean) => setupHost(agent, tls, spec, dryRun);
const snapshot = () => nodeState(node.stateDir);

beforeAll(async () => {
  pki = await createTestPki({ nodes: ['phoenix'] });
  tls = await pki.material(await pki.client('coordinator', 'coord-a'));
  emulated = await startNodes({
    nodes: [
      {
        name: 'phoenix',
        templates: [TEMPLATE_FILE],
        disks: [
          { device: '/dev/nvme0n1', links: [QUICK_A] },
          { device: '/dev/nvme1n1', links: [QUICK_B] },
          { device: '/dev/nvme2n1', links: [FAST] },
          { device: '/dev/sda', links: [USED], pttype: 'gpt', partitions: [{ fstype: 'ext4' }] },
        ],
      },
    ],
    timeScale: 0.01,
  });
  node = emulated.nodes[0]!;
  const toolEnv = Object.fromEntries(Object.entries(node.env).filter(([k]) => k.startsWith('PVE_EMU_')));
  agent = await AgentProcess.start({ node: 'phoenix', cluster: 'phoenix', pki, tools: { binDir: node.binDir, env: toolEnv } });

  // The newest seed config, with one container naming a custom AppArmor profile (as Phoenix's Portainer did).
  const imported = await importPhoenix(join(repoRoot(), 'examples/phoenix'));
  const input = imported.spec as { containers: Array<Record<string, unknown>> };
  const nginx = input.containers.find((c) => c['name'] === 'Nginx-Phoenix')!;
  nginx['apparmor'] = { profile: 'lxc-phoenix-v2', allowNesting: true };
  const compiled = compileSpec(parseSpec(input));
  const host = compileHost(compiled, 'phoenix');
  expect(host.errors).toEqual([]);
  hostSpec = host.spec;
}, 120_000);

afterAll(async () => {
  await agent?.dispose();
  await pki?.dispose();
  await emulated?.teardown();
});

describe('SetupHost on an emulated node', () => {
  it('refuses to start a container whose AppArmor profile and id ranges the host lacks, as lxc-start does', async () => {
    expect((await emu('pct', ['create', '101', `local:vztmpl/${TEMPLATE_FILE}`, '--unprivileged', '1', '--storage', 'local-zfs'])).code).toBe(0);
    const conf = join(node.stateDir, 'lxc', '101.conf');
    await appendFile(conf, 'lxc.apparmor.profile: lxc-phoenix-v2\nlxc.idmap: u 0 100000 65536\nlxc.idmap: g 0 100000 33\nlxc.idmap: g 33 33 1\nlxc.idmap: g 34 100034 65502\n');
    const first = await emu('pct', ['start', '101']);
    expect(first.code).not.toBe(0);
    expect(first.out).toContain('Failed to change AppArmor profile to lxc-phoenix-v2');
    expect(first.out).toContain("startup for container '101' failed");
  });

  it('dry run: lists the exact commands and file diffs and changes nothing', async () => {
    const before = snapshot();
    const mutating = mutatingCalls(node.stateDir).length;
    const out = await setup(hostSpec, true);
    expect(out.error).toBeUndefined();
    expect(out.result?.changed).toBe(true);
    const lines = logs(out);
    expect(lines).toContain(`$ ${node.binDir}/zpool create -o autotrim=on -O atime=off -O compression=lz4 quickOS mirror ${QUICK_A} ${QUICK_B}`);
    expect(lines).toContain(`$ ${node.binDir}/zpool create -o autotrim=on -O atime=off -O compression=lz4 fastData ${FAST}`);
    expect(lines.some((l) => l.startsWith(`$ ${node.binDir}/pvesm add zfspool quickOS-lxc-disks --pool quickOS/lxc-disks --content images,rootdir`))).toBe(true);
    expect(lines).toContain('+root:33:1');
    expect(lines).toContain('+profile lxc-phoenix-v2 flags=(attach_disconnected,mediate_deleted) {');
    expect(lines).toContain(`$ ${node.binDir}/pvesh set /cluster/firewall/options --enable 1 --policy_in DROP --policy_out ACCEPT`);
    expect(lines).toContain('+/quickOS/vm-persistent-data 10.0.0.111(rw,sync,no_subtree_check,no_root_squash) 10.0.0.102(rw,sync,no_subtree_check,no_root_squash) 10.0.0.13(rw,sync,no_subtree_check,no_root_squash)');
    expect(snapshot()).toEqual(before);
    expect(mutatingCalls(node.stateDir).length).toBe(mutating);
  }, 120_000);

  it('refuses a pool on a disk that holds data, with a clear error and nothing done', async () => {
    const before = snapshot();
    const bad = agentv1.HostSpec.fromPartial({ ...hostSpec, pools: [...hostSpec.pools, { name: 'tank', layout: 'stripe', disks: [USED] }] });
    const out = await setup(bad, false);
    expect(out.error?.code_).toBe('FAILED_PRECONDITION');
    expect(out.error?.details).toContain(`refusing to create pool tank: ${USED} holds data (gpt partition table, partition /dev/sda1 (ext4))`);
    expect(out.error?.details).toContain('Nothing was changed.');
    expect(steps(out).filter((s) => s.state === agentv1.StepState.DONE)).toEqual([]);
    expect(snapshot()).toEqual(before);
  }, 120_000);

  it('sets the node up from nothing', async () => {
    const out = await setup(hostSpec, false);
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({ ok: true, changed: true });
    expect((await emu('zpool', ['list', '-H', '-o', 'name'])).out.split('\n')).toEqual(expect.arrayContaining(['quickOS', 'fastData']));
    expect((await emu('zfs', ['get', '-H', '-o', 'value', 'quota', 'quickOS/lxc-disks'])).out.trim()).toBe('600G');
    const status = (await emu('pvesm', ['status'])).out;
    for (const id of ['quickOS-lxc-disks', 'fastData-shared-iso', 'fastData-shared-backups', 'nfs-vm-persistent-data']) expect(status).toContain(id);
    const root = join(node.stateDir, 'host');
    expect(readFileSync(join(root, 'etc/subgid'), 'utf8')).toBe('root:100000:65536\nroot:33:1\n');
    expect(readFileSync(join(root, 'sys/kernel/security/apparmor/profiles'), 'utf8')).toContain('lxc-phoenix-v2 (enforce)');
    expect(readFileSync(join(root, 'etc/modprobe.d/zfs.conf'), 'utf8')).toBe(`options zfs zfs_arc_max=${32 * 1024 ** 3}\n`);
    expect(readFileSync(join(root, 'var/lib/nfs/etab'), 'utf8')).toContain('/quickOS/vm-persistent-data\t10.0.0.102(rw,sync,no_subtree_check,no_root_squash)');
    // The seed's DROP policy in cluster.fw, its global rules in host.fw below the rule that keeps the API and SSH open.
    expect(readFileSync(join(root, 'etc/pve/firewall/cluster.fw'), 'utf8')).toBe('[OPTIONS]\n\nenable: 1\npolicy_in: DROP\npolicy_out: ACCEPT\n\n');
    expect(readFileSync(join(root, 'etc/pve/nodes/phoenix/host.fw'), 'utf8')).toContain(
      '[RULES]\n\nIN ACCEPT -source 10.0.0.0/24 -p tcp -dport 22,8006 # phoenix: keep the Proxmox API (8006) and SSH (22) reachable from the management network\n' +
        'IN ACCEPT -p tcp -dport 80 # phoenix: Allow HTTP for ACME challenges to Nginx\n',
    );
    // Nginx's log directory belongs to its www-data (gid 33 mapped 1:1, uid 33 through the offset).
    const logs101 = statSync(join(root, 'mnt/pve/quickOS/lxc-persistent-data/101/logs'));
    expect([logs101.uid, logs101.gid]).toEqual([100033, 33]);
  }, 180_000);

  it('a second run changes nothing', async () => {
    const before = snapshot();
    const mutating = mutatingCalls(node.stateDir).length;
    const out = await setup(hostSpec, false);
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({ ok: true, changed: false, changedSteps: [] });
    expect(mutatingCalls(node.stateDir).length).toBe(mutating);
    expect(snapshot()).toEqual(before);
  }, 120_000);

  it('after setup the container with the custom profile and the idmap starts', async () => {
    const started = await emu('pct', ['start', '101']);
    expect(started.out).toBe('');
    expect(started.code).toBe(0);
    expect((await emu('pct', ['status', '101'])).out.trim()).toBe('status: running');
  });
});
