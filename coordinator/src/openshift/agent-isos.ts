/** IsoTransfer through the agents' UploadIso and DeleteIso RPCs. */
import type { AgentClient } from '../agents/index.js';
import type { IsoTransfer } from './remove.js';

export function agentIsoTransfer(client: (node: string) => AgentClient): IsoTransfer {
  return {
    async upload(node, r) {
      const res = await client(node).uploadIso({ storage: r.storage, file: r.file, path: r.path, sha256: r.sha256, signal: r.signal });
      return { changed: res.changed };
    },
    async remove(node, r) {
      const res = await client(node).deleteIso({ storage: r.storage, file: r.file, signal: r.signal });
      return { changed: res.changed };
    },
  };
}
