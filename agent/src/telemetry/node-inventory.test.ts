import { describe, expect, it } from 'vitest';
import { commonv1 } from '@phoenix/shared';
import type { CallOptions, PveParams, PveshDriver } from '../drivers/index.js';
import { NodeInventory, RESOURCES_TIMEOUT_MS, RRD_SETTLE_MS } from './node-inventory.js';

/** An answer of `pvesh get /cluster/resources` on a two-node cluster. */
function resources(status = 'running'): Array<Record<string, unknown>> {
  return [
    { id: 'qemu/300', vmid: 300, node: 'pve1', type: 'qemu', status: 'stopped', name: 'vm300', template: 1, maxcpu: 4, cpu: 0, maxmem: 4096, mem: 0, maxdisk: 8192, disk: 0, uptime: 0, lock: 'backup' },
    { id: 'lxc/101', vmid: 101, node: 'pve1', type: 'lxc', status, name: 'ct101', template: 0, maxcpu: 2, cpu: 0.01, maxmem: 2048, mem: 512, maxdisk: 4096, disk: 100, uptime: 60, tags: 'a;b' },
    { id: 'lxc/900', vmid: 900, node: 'pve2', type: 'lxc', status: 'running', name: 'elsewhere', maxcpu: 1 },
    { id: 'storage/pve1/local', storage: 'local', node: 'pve1', type: 'storage', plugintype: 'dir', status: 'available', shared: 0, content: 'iso,vztmpl', maxdisk: 1000, disk: 400 },
    { id: 'storage/pve1/nfs', storage: 'nfs', node: 'pve1', type: 'storage', plugintype: 'nfs', status: 'unknown', shared: 1, content: 'images' },
    { id: 'storage/pve2/local', storage: 'local', node: 'pve2', type: 'storage', plugintype: 'dir', status: 'available', shared: 0, content: 'iso', maxdisk: 5, disk: 1 },
    { id: 'node/pve1', node: 'pve1', type: 'node', status: 'online', maxcpu: 8 },
  ];
}

class FakePvesh implements PveshDriver {
  calls: Array<{ path: string; opts: CallOptions | undefined }> = [];
  answer = resources();
  pending: Array<() => void> = [];
  hold = false;
  async get<T>(path: string, _params?: PveParams, opts?: CallOptions): Promise<T> {
    this.calls.push({ path, opts });
    if (this.hold) await new Promise<void>((r) => this.pending.push(r));
    return structuredClone(this.answer) as T;
  }
  create<T>(): Promise<T> {
    throw new Error('not used');
  }
  set<T>(): Promise<T> {
    throw new Error('not used');
  }
  delete<T>(): Promise<T> {
    throw new Error('not used');
  }
  nextId(): Promise<number> {
    throw new Error('not used');
  }
}

const LIVE: commonv1.GuestSummary[] = [
  { vmid: 101, type: commonv1.GuestType.LXC, name: 'live', status: commonv1.GuestStatus.RUNNING, template: false, lock: '', cpus: 2, maxMemoryBytes: 0, memoryBytes: 0, maxDiskBytes: 0, uptimeSeconds: 0, snapshots: [], tags: [] },
];

function setup() {
  const pvesh = new FakePvesh();
  let now = 1_000_000;
  let live = 0;
  const inventory = new NodeInventory({
    node: 'pve1',
    pvesh,
    reuseMs: 11_000,
    liveGuests: async () => {
      live++;
      return LIVE;
    },
    now: () => now,
  });
  return { pvesh, inventory, advance: (ms: number) => (now += ms), liveCalls: () => live };
}

const signal = new AbortController().signal;

describe('NodeInventory', () => {
  it('maps this node’s guests from one /cluster/resources call, sorted by VMID, under a timeout', async () => {
    const { pvesh, inventory, liveCalls } = setup();
    const guests = await inventory.listGuests(signal);
    expect(pvesh.calls).toEqual([{ path: '/cluster/resources', opts: { signal, timeoutMs: RESOURCES_TIMEOUT_MS } }]);
    expect(liveCalls()).toBe(0);
    expect(guests).toEqual([
      { vmid: 101, type: commonv1.GuestType.LXC, name: 'ct101', status: commonv1.GuestStatus.RUNNING, template: false, lock: '', cpus: 2, maxMemoryBytes: 2048, memoryBytes: 512, maxDiskBytes: 4096, uptimeSeconds: 60, snapshots: [], tags: ['a', 'b'] },
      { vmid: 300, type: commonv1.GuestType.VM, name: 'vm300', status: commonv1.GuestStatus.STOPPED, template: true, lock: 'backup', cpus: 4, maxMemoryBytes: 4096, memoryBytes: 0, maxDiskBytes: 8192, uptimeSeconds: 0, snapshots: [], tags: [] },
    ]);
  });

  it('takes storages from the guest loop’s answer while it is fresh, and calls again once it is not', async () => {
    const { pvesh, inventory, advance } = setup();
    await inventory.listGuests(signal);
    advance(10_000);
    const storages = await inventory.listStorages(signal);
    expect(pvesh.calls).toHaveLength(1);
    expect(storages).toEqual([
      { id: 'local', type: 'dir', content: ['iso', 'vztmpl'], active: true, shared: false, totalBytes: 1000, usedBytes: 400, availableBytes: 600 },
      { id: 'nfs', type: 'nfs', content: ['images'], active: false, shared: true, totalBytes: 0, usedBytes: 0, availableBytes: 0 },
    ]);
    advance(2_000);
    await inventory.listStorages(signal);
    expect(pvesh.calls).toHaveLength(2);
  });

  it('shares one call between loops that ask at the same time', async () => {
    const { pvesh, inventory } = setup();
    pvesh.hold = true;
    const both = Promise.all([inventory.listStorages(signal), inventory.listGuests(signal)]);
    await new Promise((r) => setImmediate(r));
    pvesh.pending.forEach((r) => r());
    const [storages, guests] = await both;
    expect(pvesh.calls).toHaveLength(1);
    expect(storages.map((s) => s.id)).toEqual(['local', 'nfs']);
    expect(guests.map((g) => g.vmid)).toEqual([101, 300]);
  });

  it('lists guests live until pvestatd has caught up with the agent’s own change', async () => {
    const { pvesh, inventory, advance, liveCalls } = setup();
    inventory.changed();
    expect(await inventory.listGuests(signal)).toBe(LIVE);
    advance(RRD_SETTLE_MS - 1);
    expect(await inventory.listGuests(signal)).toBe(LIVE);
    expect(pvesh.calls).toHaveLength(0);
    advance(1);
    expect((await inventory.listGuests(signal)).map((g) => g.name)).toEqual(['ct101', 'vm300']);
    expect(liveCalls()).toBe(2);
  });

  it('lists guests live while one has no RRD sample yet (status unknown)', async () => {
    const { pvesh, inventory, liveCalls } = setup();
    pvesh.answer = resources('unknown');
    expect(await inventory.listGuests(signal)).toBe(LIVE);
    expect(liveCalls()).toBe(1);
  });
});
