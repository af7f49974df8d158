/**
 * `phoenix status`: the stored spec against what the nodes report, guest by guest, with the drift
 * of each field (cores, memory, run state, template snapshot).
 */
import { NotFoundError } from '@phoenix/shared';
import { Allocator } from '../alloc/index.js';
import { specBucket, SPEC_KEY } from '../requests/index.js';
import { loadSpecText } from '../spec/load.js';
import type { StateStore } from '../state/index.js';
import type { ClusterView } from '../view/types.js';

export interface StatusRow {
  guest: string;
  vmid: number | undefined;
  node: string | undefined;
  desired: string;
  observed: string;
  drift: string[];
}

export async function statusRows(store: StateStore, view: ClusterView): Promise<StatusRow[]> {
  const spec = await specBucket(store).get(SPEC_KEY);
  if (!spec) throw new NotFoundError('no spec has been applied to this cluster yet');
  const { compiled } = loadSpecText(spec.value.yaml, 'stored spec');
  const allocations = new Map((await new Allocator(store).list()).map((a) => [a.guestId, a]));
  return compiled.guests.map((g) => {
    const vmid = g.vmid ?? allocations.get(g.name)?.vmid;
    const node = view.nodes.find((n) => n.guests.some((x) => x.vmid === vmid));
    const obs = node?.guests.find((x) => x.vmid === vmid);
    // Template guests are stopped once their snapshot is taken; everything else runs.
    const wantRunning = !g.snapshotAsTemplate && !(g.kind === 'vm' && g.vm.convertToTemplate);
    const desired = wantRunning ? 'running' : `template (${g.snapshotAsTemplate ?? 'qm template'})`;
    const drift: string[] = [];
    if (obs) {
      if (obs.cores !== g.cores) drift.push(`cores ${obs.cores} → ${g.cores}`);
      if (Math.round(obs.memoryMiB) !== g.memoryMiB) drift.push(`memory ${Math.round(obs.memoryMiB)} → ${g.memoryMiB} MiB`);
      if (wantRunning && obs.status !== 'running' && !obs.template) drift.push(`status ${obs.status} → running`);
      if (g.snapshotAsTemplate && !obs.snapshots.includes(g.snapshotAsTemplate) && obs.snapshots.length > 0) drift.push(`snapshot ${g.snapshotAsTemplate} missing`);
    } else drift.push('missing');
    return { guest: g.name, vmid, node: node?.name, desired, observed: obs ? obs.status : 'absent', drift };
  });
}
