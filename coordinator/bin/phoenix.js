#!/usr/bin/env node
// The phoenix CLI. `npm run build` compiles it to ../dist and bundles it to ../dist/cli-bundle
// (a few files load much faster than hundreds). Without the bundle, or when the compiled modules
// are newer (a `tsc -b` since the last bundle), the compiled modules run.
import { statSync } from 'node:fs';

const mtime = (rel) => statSync(new URL(rel, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
// tsc -b rewrites its build info whenever it emits anything.
const bundled = mtime('../dist/cli-bundle/phoenix.mjs') >= mtime('../dist/.tsbuildinfo');
const entry = bundled ? '../dist/cli-bundle/phoenix.mjs' : '../dist/cli/main.js';
import(entry).then(
  (m) => m.run(),
  (err) => {
    process.stderr.write(`phoenix: cannot load ${entry} (run the build first): ${err.message}\n`);
    process.exitCode = 1;
  },
);
