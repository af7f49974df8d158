/**
 * Destroying a cluster leaves nothing behind (ProxShift's deprovision deletes nothing but VMs):
 * its agent ISO on every node the record names, its credentials, its install directory and its
 * record. Each node is struck off the record as its ISO goes, so an interrupted destroy resumes.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretStore } from '../secrets/index.js';
import { openshiftRecordKey, openshiftRecords, updateOpenShiftRecord, type OpenShiftRecord, type StateStore } from '../state/index.js';

/** Moves agent ISOs onto and off the nodes (the agents' UploadIso and DeleteIso). */
export interface IsoTransfer {
  upload(node: string, r: { storage: string; file: string; path: string; sha256: string; signal: AbortSignal }): Promise<{ changed: boolean }>;
  remove(node: string, r: { storage: string; file: string; signal: AbortSignal }): Promise<{ changed: boolean }>;
}

export interface RemoveDeps {
  readonly isos: IsoTransfer;
  readonly secrets: SecretStore;
  readonly store: StateStore;
  /** Where install directories live; undefined when this coordinator installs nothing. */
  readonly workDir: string | undefined;
}

/** What destroy removed of one cluster. */
export interface RemovedCluster {
  readonly cluster: string;
  /** `<node>:<volume>` of each ISO deleted. */
  readonly isos: readonly string[];
  readonly credentials: boolean;
}

/** `local:iso/x.iso` → ['local', 'x.iso']. */
export function splitIsoVolume(volume: string): { storage: string; file: string } {
  const i = volume.indexOf(':');
  return { storage: volume.slice(0, i), file: volume.slice(i + 1).replace(/^iso\//, '') };
}

export async function removeOpenShiftCluster(record: OpenShiftRecord, deps: RemoveDeps, signal: AbortSignal): Promise<RemovedCluster> {
  const isos: string[] = [];
  if (record.isoVolume !== '') {
    const { storage, file } = splitIsoVolume(record.isoVolume);
    for (const node of record.nodes) {
      const r = await deps.isos.remove(node, { storage, file, signal });
      if (r.changed) isos.push(`${node}:${record.isoVolume}`);
      await updateOpenShiftRecord(deps.store, record.cluster, (cur) => ({ ...cur, nodes: cur.nodes.filter((n) => n !== node) }));
    }
  }
  const credentials = record.credentials ? await deps.secrets.backend(record.credentials.store).remove(record.credentials.path) : false;
  if (deps.workDir !== undefined) await rm(join(deps.workDir, record.cluster), { recursive: true, force: true });
  await openshiftRecords(deps.store).delete(openshiftRecordKey(record.cluster));
  return { cluster: record.cluster, isos, credentials };
}
