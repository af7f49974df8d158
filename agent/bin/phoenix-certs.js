#!/usr/bin/env node
// Makes the cluster CA and certificates (see agent/src/certs-cli.ts).
import { certsMain } from '../dist/certs-cli.js';

certsMain(process.argv.slice(2)).then((code) => process.exit(code));
