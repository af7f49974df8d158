/**
 * The importers against hostile variations of the real seed configs: one value of one Phoenix
 * JSON file (or of the ProxShift inventory) replaced, removed or added per case. The Phoenix
 * importer is lenient: every case must give a spec that validates (with warnings) or a typed
 * rejection with exit 2 — never a crash. The written spec must load again.
 * A long run: `PHOENIX_FUZZ_RUNS=2000 npx vitest run coordinator/src/fuzz`.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ExitCode, exitCodeOf, isPhoenixError } from '@phoenix/shared';
import { importPhoenix } from '../importers/phoenix/index.js';
import { importProxShift } from '../importers/proxshift/index.js';
import { loadSpecText } from '../spec/load.js';
import { parseYamlText } from '../spec/yaml-read.js';
import { applyMutation, mutationOf, type Json } from './mutate.js';

const SEED = 20261207;
// Each case imports and compiles the whole seed (~0.1 s): a few dozen per file in the suite,
// PHOENIX_FUZZ_RUNS for a long run.
const RUNS = Number(process.env['PHOENIX_FUZZ_RUNS'] ?? 40);
const repo = new URL('../../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'phoenix-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function typedRejection(err: unknown): 'rejected' {
  if (!isPhoenixError(err) || exitCodeOf(err) !== ExitCode.INVALID) {
    throw new Error(`not a typed rejection: ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err)}`, { cause: err });
  }
  return 'rejected';
}

describe('importer fuzz', () => {
  const seedDir = join(repo, 'examples/phoenix');
  const files = readdirSync(seedDir).filter((f) => f.endsWith('.json'));

  for (const file of files) {
    it(`phoenix ${file}: ${RUNS} mutations, each imported to a valid spec or rejected with exit 2 (seed ${SEED})`, async () => {
      const doc = JSON.parse(readFileSync(join(seedDir, file), 'utf8')) as Json;
      const counts = { imported: 0, rejected: 0 };
      let n = 0;
      await fc.assert(
        fc.asyncProperty(mutationOf(doc), async (m) => {
          const dir = mkdtempSync(join(work, 'case-'));
          for (const f of files) writeFileSync(join(dir, f), f === file ? JSON.stringify(applyMutation(doc, m)) : readFileSync(join(seedDir, f)));
          try {
            const result = await importPhoenix(dir);
            // What the importer wrote must load as it is.
            loadSpecText(stringify(result.spec, { lineWidth: 0 }), `case-${n}.yaml`);
            counts.imported++;
          } catch (err) {
            counts[typedRejection(err)]++;
          } finally {
            n++;
            rmSync(dir, { recursive: true, force: true });
          }
        }),
        { seed: SEED, numRuns: RUNS },
      );
      console.log(`importer fuzz, phoenix ${file}: ${RUNS} cases, ${counts.imported} imported, ${counts.rejected} rejected, 0 crashes`);
      expect(counts.imported + counts.rejected).toBe(RUNS);
    }, 180_000);
  }

  it(`proxshift inventory: ${RUNS * 2} mutations, each imported or rejected with exit 2 (seed ${SEED})`, async () => {
    const src = join(repo, 'examples/proxshift/examples/clusters.yml.template');
    const doc = parseYamlText(readFileSync(src, 'utf8'), src) as Json;
    const counts = { imported: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(mutationOf(doc), async (m) => {
        const path = join(work, `inventory-${counts.imported + counts.rejected}.yml`);
        writeFileSync(path, stringify(applyMutation(doc, m)));
        try {
          await importProxShift(path);
          counts.imported++;
        } catch (err) {
          counts[typedRejection(err)]++;
        }
      }),
      { seed: SEED, numRuns: RUNS * 2 },
    );
    console.log(`importer fuzz, proxshift inventory: ${RUNS * 2} cases, ${counts.imported} imported, ${counts.rejected} rejected, 0 crashes`);
  }, 180_000);
});
