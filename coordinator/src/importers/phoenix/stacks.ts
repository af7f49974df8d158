/**
 * phoenix_stacks_config.json and stacks/<name>/phoenix.json → stacks. The manifest beside the
 * compose file wins where both describe an environment. Variables whose names look like secrets
 * become references into the secret store; their values are never copied.
 */
import type { z } from 'zod';
import type { stackSchema } from '../../spec/stacks.js';
import { isObject, str, strArray, type JsonObject } from '../util.js';
import { firewallRules, type ImportContext } from './common.js';

export type StackInput = z.input<typeof stackSchema>;
type EnvInput = NonNullable<StackInput['environments']>[string];

const SECRET_NAME = /(PASS|PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE)/i;

export function importStacks(ctx: ImportContext): StackInput[] {
  const { files, w } = ctx;
  const configured = isObject(files.stacks?.['docker_stacks']) ? files.stacks['docker_stacks'] : {};
  const names = [...new Set([...Object.keys(configured), ...files.stackManifests.keys()])].sort();
  const out: StackInput[] = [];
  for (const name of names) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) {
      w.add(`stacks.${name}`, 'stack name not usable; skipped');
      continue;
    }
    const cfg = isObject(configured[name]) ? configured[name] : undefined;
    const manifest = files.stackManifests.get(name);
    const composeFile =
      str(cfg?.['compose_file_path']) ?? (files.stackComposeFiles.has(name) ? `stacks/${name}/docker-compose.yml` : undefined);
    if (!composeFile) {
      w.add(`stacks.${name}`, 'no compose file known; skipped');
      continue;
    }
    const envs: Record<string, EnvInput> = {};
    const fromCfg = isObject(cfg?.['environments']) ? cfg['environments'] : {};
    const fromManifest = isObject(manifest?.['environments']) ? manifest['environments'] : {};
    for (const env of [...new Set([...Object.keys(fromCfg), ...Object.keys(fromManifest)])].sort()) {
      const a = isObject(fromCfg[env]) ? fromCfg[env] : {};
      const b = isObject(fromManifest[env]) ? fromManifest[env] : {};
      envs[env] = environment(name, env, a, b, ctx);
    }
    const description = str(manifest?.['description']) ?? str(cfg?.['description']);
    out.push({ name, composeFile, ...(description ? { description } : {}), environments: envs });
  }
  return out;
}

function environment(stack: string, env: string, cfg: JsonObject, manifest: JsonObject, ctx: ImportContext): EnvInput {
  const { w } = ctx;
  const src = `stacks.${stack}.environments.${env}`;
  const pick = (key: string): unknown => (manifest[key] !== undefined ? manifest[key] : cfg[key]);
  const variables: NonNullable<EnvInput['variables']> = [];
  (Array.isArray(pick('variables')) ? (pick('variables') as unknown[]) : []).forEach((v, i) => {
    if (!isObject(v)) return;
    const name = str(v['name']);
    if (!name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      w.add(`${src}.variables.${i}`, 'variable without a usable name; dropped');
      return;
    }
    if (SECRET_NAME.test(name)) {
      variables.push({ name, secretRef: { store: 'vault', path: `phoenix/stacks/${stack}/${env}`, key: name } });
      w.add(`${src}.variables.${name}`, 'looks like a secret: value not imported, referenced in the secret store instead');
    } else variables.push({ name, value: str(v['value']) ?? '' });
  });
  const files: NonNullable<EnvInput['files']> = [];
  (Array.isArray(pick('files')) ? (pick('files') as unknown[]) : []).forEach((f) => {
    if (!isObject(f)) return;
    const source = str(f['source']);
    const destination = str(f['destination_in_container']) ?? str(f['destination']);
    if (source && destination?.startsWith('/')) files.push({ source, destination });
  });
  const services: NonNullable<EnvInput['services']> = {};
  const svcA = isObject(cfg['services']) ? cfg['services'] : {};
  const svcB = isObject(manifest['services']) ? manifest['services'] : {};
  for (const svc of [...new Set([...Object.keys(svcA), ...Object.keys(svcB)])].sort()) {
    const la = isObject(svcA[svc]) ? (strArray(svcA[svc]['traefik_labels']) ?? []) : [];
    const lb = isObject(svcB[svc]) ? (strArray(svcB[svc]['traefik_labels']) ?? undefined) : undefined;
    if (lb && la.length > 0 && JSON.stringify(la) !== JSON.stringify(lb)) {
      w.add(`${src}.services.${svc}`, 'traefik labels differ between phoenix_stacks_config.json and the stack manifest; the manifest wins');
    }
    services[svc] = { labels: lb ?? la };
  }
  const firewall = firewallRules(pick('firewall_rules'), `${src}.firewall_rules`, w);
  return { variables, files, services, firewall };
}
