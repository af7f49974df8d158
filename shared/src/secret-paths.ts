/**
 * Files holding secrets or certificates, named in a config file: an absolute path, a path relative
 * to the config file, or `credential:<name>` for a file systemd passes with `LoadCredential=` (in
 * `$CREDENTIALS_DIRECTORY`). Problems are collected as "field: message" lines, so one start names all.
 */
import { accessSync, constants } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

export const CREDENTIAL_PREFIX = 'credential:';

/** The path `value` names, or undefined (with an issue recorded) when it cannot be resolved. */
export function resolveSecretPath(field: string, value: string, baseDir: string, env: NodeJS.ProcessEnv, issues: string[]): string | undefined {
  if (value.startsWith(CREDENTIAL_PREFIX)) {
    const name = value.slice(CREDENTIAL_PREFIX.length);
    const dir = env['CREDENTIALS_DIRECTORY'];
    if (!/^[A-Za-z0-9_.@-]+$/.test(name) || name.startsWith('.')) {
      issues.push(`${field}: credential names are plain file names (got ${JSON.stringify(value)})`);
      return undefined;
    }
    if (!dir) {
      issues.push(`${field}: $CREDENTIALS_DIRECTORY is not set, so ${JSON.stringify(value)} cannot be resolved (LoadCredential= in the unit)`);
      return undefined;
    }
    return join(dir, name);
  }
  return isAbsolute(value) ? value : resolve(baseDir, value);
}

/** Records an issue unless `path` is readable by this process. */
export function checkReadable(field: string, value: string, path: string, issues: string[]): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    issues.push(`${field}: file is not readable: ${code} (got ${JSON.stringify(value)}${path !== value ? ` → ${path}` : ''})`);
  }
}

/** Resolves `value` and checks it is readable; returns the resolved path (or `value` when it could not be resolved). */
export function secretFile(field: string, value: string, baseDir: string, env: NodeJS.ProcessEnv, issues: string[]): string {
  const path = resolveSecretPath(field, value, baseDir, env, issues);
  if (path !== undefined) checkReadable(field, value, path, issues);
  return path ?? value;
}
