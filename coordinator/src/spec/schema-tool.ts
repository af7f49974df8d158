/**
 * `npm run schema:gen` writes coordinator/schema/phoenix-spec.schema.json; `npm run schema:check`
 * fails (exit 1) when the committed file differs from what the zod types generate.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { specJsonSchemaText } from './json-schema.js';

/** Resolved from src/spec or dist/spec alike: both sit two levels below the package root. */
export const SCHEMA_PATH = fileURLToPath(new URL('../../schema/phoenix-spec.schema.json', import.meta.url));

export async function schemaDrift(): Promise<{ path: string; upToDate: boolean }> {
  let committed: string;
  try {
    committed = await readFile(SCHEMA_PATH, 'utf8');
  } catch {
    committed = '';
  }
  return { path: SCHEMA_PATH, upToDate: committed === specJsonSchemaText() };
}

async function main(mode: string | undefined): Promise<number> {
  if (mode === 'write') {
    await mkdir(dirname(SCHEMA_PATH), { recursive: true });
    await writeFile(SCHEMA_PATH, specJsonSchemaText());
    process.stdout.write(`wrote ${SCHEMA_PATH}\n`);
    return 0;
  }
  if (mode === 'check') {
    const { path, upToDate } = await schemaDrift();
    if (upToDate) {
      process.stdout.write(`${path} is up to date\n`);
      return 0;
    }
    process.stderr.write(`${path} differs from the zod types: run npm run schema:gen -w @phoenix/coordinator\n`);
    return 1;
  }
  process.stderr.write('usage: schema-tool.js write|check\n');
  return 2;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv[2]).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
