import type { Reporter, TestModule } from 'vitest/node';

/** Prints the ten slowest tests, then the plain `N passed, N failed` closing line that CI reads. */
export default class ClosingLineReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const durations: { name: string; ms: number }[] = [];
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
        const ms = test.diagnostic()?.duration;
        if (ms !== undefined) durations.push({ name: `${mod.relativeModuleId} > ${test.fullName}`, ms });
      }
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) failed++;
    }
    const slowest = durations.sort((a, b) => b.ms - a.ms).slice(0, 10);
    if (slowest.length > 0 && passed + failed > 20) {
      process.stdout.write(`\nslowest tests:\n${slowest.map((t) => `${(t.ms / 1000).toFixed(1).padStart(7)} s  ${t.name}`).join('\n')}\n`);
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}
