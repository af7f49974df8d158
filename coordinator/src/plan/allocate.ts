/**
 * Stage 4, allocate: VMIDs, addresses and MACs. With an allocator they are claimed for real
 * (apply); without one VMIDs are previewed as negative numbers and nothing is written (plan).
 * Guests are allocated in build order (template guests and dependencies first), replicas after.
 */
import type { AllocateOptions, Allocation, AllocationRequest } from '../alloc/index.js';
import type { CompiledSpec } from '../spec/compile.js';
import { inSubnet, parseCidr } from '../spec/ip.js';
import type { ClusterView } from '../view/types.js';
import { isReplica, type AllocatedGuest, type BoundGuest } from './stages.js';

/** What planning needs of the allocator. */
export interface GuestAllocator {
  allocate(request: AllocationRequest, options?: AllocateOptions): Promise<Allocation>;
}

/** The declared network a static address lies in, when the guest names none. */
function networkOf(spec: CompiledSpec, ip: string | undefined): string | undefined {
  if (!ip || ip === 'dhcp') return undefined;
  const addr = ip.split('/')[0]!;
  for (const [name, n] of spec.networks) {
    const net = parseCidr(n.cidr);
    if (net && inSubnet(addr, net)) return name;
  }
  return undefined;
}

export async function allocate(
  spec: CompiledSpec,
  bound: readonly BoundGuest[],
  view: ClusterView,
  allocator: GuestAllocator | undefined,
): Promise<AllocatedGuest[]> {
  const observedVmids = view.nodes.flatMap((n) => n.guests.map((x) => x.vmid));
  const out: AllocatedGuest[] = [];
  let preview = 0;
  for (const b of bound) {
    const nic = b.guest.network;
    // A replica is a template copy: it takes a new VMID and a DHCP address, never the original's.
    const replica = isReplica(b);
    const staticIp = nic.ip && nic.ip !== 'dhcp' ? nic.ip : undefined;
    const network = nic.network ?? networkOf(spec, staticIp);
    let vmid = replica ? 0 : (b.vmid ?? 0);
    let ip = replica ? 'dhcp' : (nic.ip ?? undefined);
    let mac = replica ? undefined : nic.mac;
    let gateway = nic.gateway;
    if (allocator) {
      // A static address outside every declared network is honoured as written (no pool to check it against).
      const addressing = replica || (!network && !nic.pool) ? { ip: 'dhcp' } : staticIp ? { ip: staticIp } : nic.pool ? { pool: nic.pool } : {};
      const nics = [{ id: 'net0', ...(network && !replica ? { network } : {}), ...addressing, ...(mac ? { mac } : {}) }];
      const a = await allocator.allocate({ guestId: b.id, ...(vmid ? { vmid } : {}), nics }, { observedVmids });
      vmid = a.vmid;
      const n = a.nics[0];
      if (n) {
        mac = n.mac;
        if (n.address) ip = `${n.address}/${n.prefix ?? 24}`;
        else if (replica) ip = 'dhcp';
        gateway = n.gateway ?? gateway;
      }
    } else if (!vmid) {
      vmid = 0 - ++preview;
    }
    out.push({ ...b, vmid, ip, gateway, mac });
  }
  return out;
}
