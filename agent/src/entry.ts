/** Whether the module at `moduleUrl` is the script node was started with (`node agent/dist/main.js`). */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export function isEntryModule(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}
