/**
 * Golden files for the importer tests. They are only ever rewritten when PHOENIX_UPDATE_GOLDEN=1
 * is set by the person running the tests; a missing or different file fails the test.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GOLDEN_ENV = 'PHOENIX_UPDATE_GOLDEN';

export function goldenPath(name: string): string {
  return fileURLToPath(new URL(`./__golden__/${name}`, import.meta.url));
}

/** Returns the committed text (after writing `actual` when updating is asked for). */
export function golden(name: string, actual: string): string {
  return goldenAt(goldenPath(name), actual);
}

/** The same for a golden file at any path (fixtures kept beside the sources they come from). */
export function goldenAt(path: string, actual: string): string {
  if (process.env[GOLDEN_ENV] === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
  }
  if (!existsSync(path)) {
    throw new Error(`golden file ${path} is missing: review the output and run the test with ${GOLDEN_ENV}=1`);
  }
  return readFileSync(path, 'utf8');
}
