import { describe, expect, it } from 'vitest';
import { agentv1, commonv1 } from '@phoenix/shared';
import { compileSpec, type CompiledVm } from '../spec/compile.js';
import { parseSpec } from '../spec/load.js';
import type { SpecInput } from '../spec/spec.js';
import { toAgentSpec, type GuestBinding } from './agent-spec.js';

const ref = { store: 'vault' as const, path: 'secrets/data/openshift/pull', key: 'secret' };

function ocpGuest(over: Record<string, unknown> = {}): CompiledVm {
  const spec: SpecInput = {
    version: 1,
    cluster: { name: 'lab' },
    nodes: [{ name: 'pve1' }],
    openshift: [
      {
        name: 'sno1',
        topology: 'sno',
        baseDomain: 'lab.example.org',
        version: '4.19.1',
        network: { machineCidr: '10.0.42.0/24', gateway: '10.0.42.1', nameservers: ['10.0.42.1'], vlan: 42 },
        roles: { controlPlane: { cores: 8, memoryMiB: 16384, diskGiB: 120, storage: 'local-lvm', extraDisks: [{ sizeGiB: 150, wwn: '0x5000c50055f2f438' }] } },
        nodes: [{ name: 'sno1-cp0', role: 'control-plane', ip: '10.0.42.50', rootDeviceWwn: '0x5000c50055f2f437' }],
        pullSecret: ref,
        sshKey: ref,
        isoStorage: 'isos',
        ...over,
      },
    ],
  };
  const g = compileSpec(parseSpec(spec)).guests.find((x) => x.name === 'sno1-cp0');
  if (g?.kind !== 'vm') throw new Error('the OpenShift node did not compile to a VM');
  return g;
}

const binding = (over: Partial<GuestBinding> = {}): GuestBinding => ({
  vmid: 301,
  node: 'pve1',
  storage: 'local-lvm',
  gpus: [],
  ip: '10.0.42.50/24',
  gateway: '10.0.42.1',
  mac: '52:54:00:0C:00:01',
  sourceVmid: undefined,
  sourceSnapshot: undefined,
  templateStorage: 'local',
  ...over,
});

describe('an OpenShift node VM translated for the agent', () => {
  it('installs from the cluster agent ISO on ide2, with blank disks, UEFI and CPU host', () => {
    const g = ocpGuest();
    expect(g.vm.openshift?.isoVolume).toBe('isos:iso/phoenix-sno1-agent.x86_64.iso');
    const spec = toAgentSpec(g, binding());
    expect(spec.type).toBe(commonv1.GuestType.VM);
    expect(spec.source).toEqual({ kind: { $case: 'installIso', value: { volume: 'isos:iso/phoenix-sno1-agent.x86_64.iso', rootDiskWwn: '0x5000c50055f2f437' } } });
    expect(spec.rootDisk).toEqual({ storage: 'local-lvm', sizeGib: 120 });
    expect(spec.vm).toEqual(
      agentv1.VmSettings.fromPartial({
        bios: 'ovmf',
        machine: 'q35',
        osType: 'l26',
        cpuType: 'host',
        guestAgent: false,
        extraDisks: [{ slot: 'scsi1', storage: 'local-lvm', sizeGib: 150, wwn: '0x5000c50055f2f438' }],
        bootOrder: ['scsi0', 'ide2'],
      }),
    );
    // The address reaches RHCOS through the agent-config's nmstate, never through cloud-init.
    expect(spec.networks).toEqual([expect.objectContaining({ index: 0, bridge: 'vmbr0', mac: '52:54:00:0C:00:01', vlanTag: 42, model: 'virtio', ip: '', gateway: '' })]);
    expect(spec.nameservers).toEqual([]);
    expect(spec.cores).toBe(8);
    expect(spec.memoryMib).toBe(16384);
  });

  it('never gives RHCOS a CPU model without x86-64-v2 (kvm64, qemu64)', () => {
    const cpu = toAgentSpec(ocpGuest(), binding()).vm?.cpuType ?? '';
    expect(cpu).not.toMatch(/^(kvm|qemu)(32|64)$|^x86-64-v1$|^$/);
  });

  it('takes the ISO from the default storage local when the cluster names none', () => {
    const spec = toAgentSpec(ocpGuest({ isoStorage: undefined }), binding());
    expect(spec.source?.kind).toMatchObject({ $case: 'installIso', value: { volume: 'local:iso/phoenix-sno1-agent.x86_64.iso' } });
  });

  it('refuses a node without an allocated MAC: the agent-config finds hosts by it', () => {
    expect(() => toAgentSpec(ocpGuest(), binding({ mac: undefined }))).toThrow(/OpenShift VM sno1-cp0 has no MAC address allocated/);
  });
});
