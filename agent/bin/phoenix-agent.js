#!/usr/bin/env node
// Entry point of the phoenix-agent service (see deploy/systemd/phoenix-agent.service).
import { main } from '../dist/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`phoenix-agent: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
