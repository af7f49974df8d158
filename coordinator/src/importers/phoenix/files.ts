/**
 * Finding and reading the Phoenix config files of a directory (the `etc/` of an install, the
 * install root, or any folder holding the JSON files). Every era keeps the same file names.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '@phoenix/shared';
import { isObject, type JsonObject } from '../util.js';
import type { Warnings } from '../warnings.js';

export const FILE_NAMES = {
  hypervisor: 'phoenix_hypervisor_config.json',
  lxc: 'phoenix_lxc_configs.json',
  vm: 'phoenix_vm_configs.json',
  stacks: 'phoenix_stacks_config.json',
  legacyShell: 'phoenix_hypervisor_config.sh',
  certificates: 'certificate-manifest.json',
  portainer: 'portainer/config.json',
} as const;

export interface PhoenixFiles {
  readonly dir: string;
  readonly hypervisor: JsonObject | undefined;
  readonly lxc: JsonObject | undefined;
  readonly vm: JsonObject | undefined;
  readonly stacks: JsonObject | undefined;
  /** stacks/<name>/phoenix.json manifests, by stack name. */
  readonly stackManifests: ReadonlyMap<string, JsonObject>;
  readonly stackComposeFiles: ReadonlySet<string>;
  readonly legacyShell: boolean;
  readonly certificates: boolean;
  readonly portainer: boolean;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readJson(path: string, label: string): Promise<JsonObject> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new InvalidArgumentError('config', path, 'cannot read', { cause });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new InvalidArgumentError(label, path, `not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (!isObject(data)) throw new InvalidArgumentError(label, path, 'must hold a JSON object');
  return data;
}

/** The directory itself, or its etc/ (an install root), whichever holds the configs. */
async function configDir(dir: string): Promise<string> {
  if (!(await exists(dir))) throw new InvalidArgumentError('config-dir', dir, 'no such directory');
  for (const candidate of [dir, join(dir, 'etc'), join(dir, 'usr/local/phoenix_hypervisor/etc')]) {
    for (const name of [FILE_NAMES.hypervisor, FILE_NAMES.lxc, FILE_NAMES.vm]) {
      if (await exists(join(candidate, name))) return candidate;
    }
  }
  throw new InvalidArgumentError(
    'config-dir',
    dir,
    `holds none of ${FILE_NAMES.hypervisor}, ${FILE_NAMES.lxc}, ${FILE_NAMES.vm}`,
  );
}

export async function readPhoenixFiles(dir: string, w: Warnings): Promise<PhoenixFiles> {
  const base = await configDir(dir);
  const opt = async (name: string): Promise<JsonObject | undefined> =>
    (await exists(join(base, name))) ? readJson(join(base, name), name) : undefined;
  const hypervisor = await opt(FILE_NAMES.hypervisor);
  const lxc = await opt(FILE_NAMES.lxc);
  const vm = await opt(FILE_NAMES.vm);
  const stacks = await opt(FILE_NAMES.stacks);

  const stackManifests = new Map<string, JsonObject>();
  const stackComposeFiles = new Set<string>();
  // stacks/ sits beside etc/ in an install, or beside the files in a copied folder
  for (const stacksDir of [join(base, 'stacks'), join(base, '..', 'stacks')]) {
    if (!(await exists(stacksDir))) continue;
    for (const name of (await readdir(stacksDir)).sort()) {
      const manifest = join(stacksDir, name, 'phoenix.json');
      if (await exists(manifest)) {
        try {
          stackManifests.set(name, await readJson(manifest, `stacks/${name}/phoenix.json`));
        } catch (err) {
          w.add(`stacks/${name}/phoenix.json`, `skipped: ${(err as Error).message}`);
        }
      }
      if (await exists(join(stacksDir, name, 'docker-compose.yml'))) stackComposeFiles.add(name);
    }
    break;
  }
  return {
    dir: base,
    hypervisor,
    lxc,
    vm,
    stacks,
    stackManifests,
    stackComposeFiles,
    legacyShell: await exists(join(base, FILE_NAMES.legacyShell)),
    certificates: await exists(join(base, FILE_NAMES.certificates)),
    portainer: await exists(join(base, FILE_NAMES.portainer)),
  };
}

export function asObject(v: unknown): JsonObject | undefined {
  return isObject(v) ? v : undefined;
}
