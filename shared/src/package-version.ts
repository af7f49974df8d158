/** The `version` of the package.json at `url` (read once by the caller; "0.0.0" when unreadable). */
import { readFileSync } from 'node:fs';

export function packageVersion(url: URL): string {
  try {
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
