import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseWithYaml, stringify } from 'yaml';
import { InvalidArgumentError } from '@phoenix/shared';
import { importPhoenix } from '../importers/phoenix/index.js';
import { parseYamlText } from './yaml-read.js';

const repo = new URL('../../../', import.meta.url).pathname;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

describe('parseYamlText', () => {
  const files = ['examples', 'test/fixtures', 'coordinator/examples', 'deploy'].flatMap((d) => {
    try {
      return yamlFiles(join(repo, d));
    } catch {
      return [];
    }
  });

  it('reads every YAML file of the repository exactly as the yaml library does', () => {
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expect([f, parseYamlText(text, f)]).toEqual([f, parseWithYaml(text, { uniqueKeys: true })]);
    }
  });

  it('reads back what the importers write', async () => {
    const result = await importPhoenix(join(repo, 'examples/phoenix'), { cluster: 'c' });
    const text = stringify(result.spec, { lineWidth: 0 });
    expect(parseYamlText(text, 'imported.yaml')).toEqual(parseWithYaml(text));
  });

  it('keeps YAML 1.2 core semantics: yes/on and dates stay strings, 0o octal is a number', () => {
    expect(parseYamlText('a: yes\nb: on\nc: 2025-01-02\nd: 0o17\ne: ~\nf: .inf\n', 's')).toEqual({
      a: 'yes',
      b: 'on',
      c: '2025-01-02',
      d: 15,
      e: null,
      f: Number.POSITIVE_INFINITY,
    });
  });

  it('names the source and the line of a syntax error or a duplicate key', () => {
    expect(() => parseYamlText('a: 1\nb: [1\n', 'x.yaml')).toThrowError(/^x\.yaml: not valid YAML/);
    const dup = (() => {
      try {
        parseYamlText('a: 1\nb: 2\na: 3\n', 'd.yaml');
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(dup).toBeInstanceOf(InvalidArgumentError);
    expect((dup as Error).message).toMatch(/duplicated mapping key.*line 3, column 1/s);
  });

  it('refuses an alias bomb instead of handing an exponential tree to the schema', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 8; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    expect(() => parseYamlText(`${levels.join('\n')}\n`, 'bomb.yaml')).toThrowError(/bomb\.yaml: .*more than 1000000 values/);
    // A long flat list is counted, not spread onto the call stack.
    expect(() => parseYamlText(`[${Array(300_000).fill('1').join(',')}]`, 'long.yaml')).not.toThrow();
    // A few shared anchors are fine.
    expect(parseYamlText('base: &b {cores: 2}\none: *b\ntwo: *b\n', 'ok.yaml')).toEqual({ base: { cores: 2 }, one: { cores: 2 }, two: { cores: 2 } });
  });
});
