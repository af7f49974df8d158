import { describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { evaluate } from './filters.js';
import { commit } from './moves.js';
import { decisionOrder, F_ANTI, FILTER_COUNT, type Req } from './requests.js';
import { FEASIBLE, Run } from './run.js';
import { scan } from './scan.js';
import { makeNode, makeView } from './testing.js';
import type { PendingGuest, ScheduleOptions, SchedulePolicy } from './types.js';

/**
 * The plain scan the optimized one must agree with: every node through evaluate(), first best wins.
 * Nodes outside the request's candidate set (its driver) count under the filter that rules them out;
 * the fast path (no GPU) counts a node under anti-affinity only when every other filter passes.
 */
function referenceScan(ctx: Run, req: Req): { best: number; score: number; counts: number[]; feasible: number } {
  const counts = new Array<number>(FILTER_COUNT).fill(0);
  let best = -1;
  let score = -Infinity;
  let feasible = 0;
  const candidates = req.driver !== null ? new Set(req.driver) : undefined;
  for (let node = 0; node < ctx.state.n; node++) {
    const f = candidates !== undefined && !candidates.has(node) ? req.driverFilter : judge(ctx, req, node);
    if (f !== FEASIBLE) {
      counts[f] = (counts[f] as number) + 1;
      continue;
    }
    feasible++;
    if (ctx.score > score) {
      score = ctx.score;
      best = node;
    }
  }
  return { best, score, counts, feasible };
}

function judge(ctx: Run, req: Req, node: number): number {
  const fast = req.gpu === undefined && req.disks.every((d) => d.sid !== -2);
  if (!fast) return evaluate(ctx, req, node, false);
  const f = evaluate(ctx, req, node, false, true);
  if (f !== FEASIBLE) return f;
  const anti = req.groupCounts.some((c) => (c[node] as number) > 0);
  // the score of the node itself is left in ctx.score by the evaluate() above
  return anti ? F_ANTI : FEASIBLE;
}

// Many nodes of few shapes and many guests of few shapes, so node classes and remembered scans are used.
const nodeShapeArb = fc.record({
  cores: fc.constantFrom(4, 16, 64),
  memoryMiB: fc.constantFrom(8192, 65536),
  zone: fc.constantFrom(undefined, 'a', 'b'),
  nvme: fc.boolean(),
  shared: fc.boolean(),
  gpu: fc.integer({ min: 0, max: 5 }).map((x) => x === 0),
  down: fc.integer({ min: 0, max: 9 }).map((x) => x === 0),
});

const viewArb = fc.array(nodeShapeArb, { minLength: 1, maxLength: 40 }).map((shapes) =>
  makeView(
    shapes.map((s, i) =>
      makeNode(`n${String(i).padStart(2, '0')}`, {
        cores: s.cores,
        memoryMiB: s.memoryMiB,
        labels: s.zone ? { zone: s.zone } : {},
        storages: [
          { id: 'local', totalGiB: 500, freeGiB: 400 },
          ...(s.nvme ? [{ id: 'nvme', totalGiB: 200, freeGiB: 200 }] : []),
          ...(s.shared ? [{ id: 'nfs', shared: true, totalGiB: 1000, freeGiB: 600, content: ['images' as const, 'rootdir' as const] }] : []),
        ],
        gpus: s.gpu ? [{ memoryTotalMiB: 46068 }] : [],
        osTemplates: i % 3 === 0 ? ['ubuntu.tar.zst'] : [],
        down: s.down,
      }),
    ),
  ),
);

const guestShapeArb = fc.record({
  cores: fc.constantFrom(1, 4, 12),
  memoryMiB: fc.constantFrom(1024, 8192, 30000),
  storage: fc.constantFrom(undefined, 'local', 'nvme', 'nfs', 'nowhere'),
  sizeGiB: fc.constantFrom(10, 60, 150),
  zone: fc.constantFrom(undefined, undefined, 'a'),
  group: fc.constantFrom(undefined, undefined, 'g'),
  template: fc.constantFrom(false, false, true),
  gpu: fc.integer({ min: 0, max: 7 }).map((x) => x === 0),
});

const pendingArb = fc.array(guestShapeArb, { minLength: 1, maxLength: 4 }).chain((shapes) =>
  fc.array(fc.constantFrom(...shapes), { minLength: 1, maxLength: 30 }).map((gs) =>
    gs.map(
      (g, i): PendingGuest => ({
        name: `p${i}`,
        kind: 'container',
        cores: g.cores,
        memoryMiB: g.memoryMiB,
        disks: [{ storage: g.storage, sizeGiB: g.sizeGiB }],
        gpu: g.gpu ? { count: 1, exclusive: false } : undefined,
        labels: g.zone ? { zone: g.zone } : undefined,
        antiAffinity: g.group ? [g.group] : undefined,
        template: g.template ? { kind: 'file', file: 'ubuntu.tar.zst' } : undefined,
      }),
    ),
  ),
);

const policyArb: fc.Arbitrary<SchedulePolicy> = fc.record({
  strategy: fc.constantFrom('binpack' as const, 'spread' as const),
  weights: fc.record({ cpu: fc.constantFrom(0, 1), memory: fc.constantFrom(0.5, 1), gpu: fc.constant(1), storage: fc.constantFrom(0, 1) }),
  overcommit: fc.record({ cpu: fc.constantFrom(1, 4), memory: fc.constant(1) }),
  templateCopies: fc.constantFrom('allow' as const, 'deny' as const),
  templateCopyCost: fc.constantFrom(0, 0.25),
  gpuNodePenalty: fc.constantFrom(0, 0.1),
});

describe('the optimized scan', () => {
  test.prop([viewArb, pendingArb, policyArb, fc.constantFrom<ScheduleOptions['scan']>(undefined, 'every-node')], { numRuns: 300 })(
    'finds the same best node, score and rejection counts as judging every node with evaluate()',
    (view, pending, policy, scanMode) => {
      const ctx = new Run(view, pending, policy, { scan: scanMode });
      for (const i of decisionOrder(ctx.reqs)) {
        const req = ctx.reqs[i] as Req;
        const want = referenceScan(ctx, req);
        // a remembered scan answers with the counts of the scan it remembers, so counts are compared on full scans
        const fullScan = !ctx.cache.has(req.shape);
        const best = scan(ctx, req);
        expect(best).toBe(want.best);
        if (best >= 0) expect(ctx.bestScore).toBeCloseTo(want.score, 9);
        if (fullScan) {
          expect(Array.from(ctx.counts)).toEqual(want.counts);
          expect(ctx.fastFeasible).toBe(want.feasible);
        }
        if (best >= 0) {
          evaluate(ctx, req, best, false);
          commit(ctx, i, best);
        }
      }
    },
  );
});
