#!/usr/bin/env node
// Regenerates the protobuf code and fails when it differs from what is committed.
import { execFileSync } from 'node:child_process';

const root = new URL('../../', import.meta.url).pathname;
const opts = { cwd: root, stdio: 'inherit' };
execFileSync('npx', ['buf', 'generate'], opts);
try {
  execFileSync('git', ['diff', '--exit-code', '--stat', '--', 'shared/src/gen'], opts);
  const untracked = execFileSync('git', ['ls-files', '--others', '--exclude-standard', 'shared/src/gen'], { cwd: root })
    .toString()
    .trim();
  if (untracked) throw new Error(`untracked generated files:\n${untracked}`);
} catch (err) {
  console.error('generated code is out of date: run `npm run gen` and commit shared/src/gen', err instanceof Error ? err.message : '');
  process.exit(1);
}
console.log('generated code matches proto/');
