import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APPLICATIONS, DEFAULT_FEATURES_DIR, FEATURES, featureByName } from './catalog.js';
import { composeDescription, digest, splitDescription } from './record.js';

/** Every feature name the Phoenix configs use (E2–E4 LXC and VM files, plus portainer_role). */
const SEED_FEATURES = ['base_setup', 'nvidia', 'docker', 'vllm', 'ollama', 'portainer', 'python_api_service', 'trusted_ca', 'step_cli', 'step_ca', 'traefik'];

describe('feature catalog', () => {
  it('covers every feature the seed configs use', () => {
    for (const name of SEED_FEATURES) expect(featureByName(name), name).toBeDefined();
  });

  it('has a syntactically valid script for every feature and application, with known, acyclic dependencies', () => {
    const lib = join(DEFAULT_FEATURES_DIR, 'lib', 'phoenix-lib.sh');
    const scripts = [lib, ...FEATURES.map((f) => join(DEFAULT_FEATURES_DIR, f.script)), ...APPLICATIONS.map((a) => join(DEFAULT_FEATURES_DIR, 'apps', `${a}.sh`))];
    for (const file of scripts) {
      expect(existsSync(file), file).toBe(true);
      execFileSync('bash', ['-n', file]);
    }
    const order = new Map(FEATURES.map((f, i) => [f.name, i]));
    for (const f of FEATURES) for (const dep of f.dependsOn) expect(order.get(dep), `${f.name} → ${dep}`).toBeLessThan(order.get(f.name) ?? -1);
  });

  it('validates parameters strictly', () => {
    expect(featureByName('portainer')?.params.safeParse({ role: 'server' }).success).toBe(true);
    expect(featureByName('portainer')?.params.safeParse({ role: 'server; rm -rf /' }).success).toBe(false);
    expect(featureByName('docker')?.params.safeParse({ unknown: 'x' }).success).toBe(false);
    expect(featureByName('step_cli')?.params.safeParse({ ca_url: 'https://ca.internal:9000' }).success).toBe(false);
  });
});

describe('installed record in the description', () => {
  it('round-trips and keeps the people’s text', () => {
    const record = new Map([
      ['base_setup', digest({ a: 1 })],
      ['nvidia', digest({ driver: '580.76.05' })],
    ]);
    const text = composeDescription('Copy-Base\nnotes', record);
    expect(text.split('\n')).toEqual(['Copy-Base', 'notes', `<!-- phoenix:installed base_setup@${record.get('base_setup')} nvidia@${record.get('nvidia')} -->`]);
    expect(splitDescription(`${text}\n`)).toEqual({ human: 'Copy-Base\nnotes', record });
    expect(splitDescription('plain')).toEqual({ human: 'plain', record: new Map() });
  });

  it('digests are stable and key-order independent', () => {
    expect(digest({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(digest({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(digest({ a: 1 })).not.toBe(digest({ a: 2 }));
  });
});
