#!/usr/bin/env node
// The phoenix CLI. `npm run build` compiles it to ../dist and bundles it to ../dist/cli-bundle
// (a few files load much faster than hundreds); without the bundle the compiled modules run.
import { existsSync } from 'node:fs';

const bundled = new URL('../dist/cli-bundle/phoenix.mjs', import.meta.url);
const entry = existsSync(bundled) ? bundled.href : '../dist/cli/main.js';
import(entry).then(
  (m) => m.run(),
  (err) => {
    process.stderr.write(`phoenix: cannot load ${entry} (run the build first): ${err.message}\n`);
    process.exitCode = 1;
  },
);
