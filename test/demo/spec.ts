/** The demo's spec: the imported Phoenix seed config, placed on the demo's three nodes. */
import { writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { DEMO_NODES, type DemoCluster } from './cluster.js';

/** The imported spec, with the seed's single host replaced by the demo's three nodes. */
export async function demoSpec(seedDir: string, cluster: DemoCluster, out: string, note: (line: string) => void = () => undefined): Promise<string> {
  const imported = await cluster.cli(['import', 'phoenix', seedDir]);
  if (imported.code !== 0) throw new Error(`import failed (${imported.code}): ${imported.stderr}`);
  const spec = parse(imported.stdout) as Record<string, unknown>;
  spec['cluster'] = { ...(spec['cluster'] as object), name: 'demo' };
  // Site-specific application scripts are not part of the seed fixtures: leave them out, say so.
  for (const kind of ['containers', 'vms'] as const) {
    for (const g of (spec[kind] as Record<string, unknown>[] | undefined) ?? []) {
      if (typeof g['applicationScript'] === 'string' && !['vllm', 'qdrant'].includes(g['applicationScript'])) {
        note(`${String(g['name'])}: application script ${g['applicationScript']} is not in the seed fixtures; skipped`);
        delete g['applicationScript'];
      }
      const hc = g['healthCheck'] as { command?: string[] } | undefined;
      if (hc?.command?.[0]?.startsWith('/usr/local/phoenix_hypervisor/')) {
        note(`${String(g['name'])}: health check ${hc.command[0]} is not in the seed fixtures; skipped`);
        delete g['healthCheck'];
      }
    }
  }
  spec['nodes'] = DEMO_NODES.map((n) => ({ name: n.name, labels: n.labels }));
  // The seed's LAN, declared so static addresses are checked for clashes and new guests get one.
  spec['networks'] = [
    { name: 'lan', bridge: 'vmbr0', cidr: '10.0.0.0/24', gateway: '10.0.0.1', nameservers: ['10.0.0.13'], pools: [{ name: 'guests', range: '10.0.0.200-10.0.0.249' }] },
  ];
  await writeFile(out, stringify(spec, { lineWidth: 0 }));
  return out;
}

