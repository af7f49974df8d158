#!/usr/bin/env node
// The phoenix CLI; the code is built to ../dist (npm run build).
import('../dist/cli/main.js').then(
  (m) => m.run(),
  (err) => {
    process.stderr.write(`phoenix: cannot load ../dist/cli/main.js (run the build first): ${err.message}\n`);
    process.exitCode = 1;
  },
);
