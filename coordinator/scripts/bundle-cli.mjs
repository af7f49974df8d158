// Bundles the built CLI (dist/cli/main.js) into dist/cli-bundle/: one entry file plus one chunk per
// group of commands, so `phoenix --help` or `phoenix validate` load a few files instead of
// hundreds, and never NATS, gRPC or the importers. bin/phoenix.js runs the bundle.
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'cli-bundle');
await rm(outDir, { recursive: true, force: true });
await build({
  input: join(root, 'dist', 'cli', 'main.js'),
  platform: 'node',
  // pino loads its transports from files at run time; it stays a normal dependency.
  external: [/^pino(\/|$)/],
  output: { dir: outDir, format: 'esm', minify: true, sourcemap: true, entryFileNames: 'phoenix.mjs', chunkFileNames: '[name]-[hash].mjs' },
  logLevel: 'warn',
});
