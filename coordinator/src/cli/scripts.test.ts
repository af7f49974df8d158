import { describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSpecScripts } from './scripts.js';
import type { CompiledSpec } from '../spec/compile.js';

const specWith = (...scripts: string[]) =>
  ({ guests: scripts.map((s, i) => ({ path: `containers.${i}`, applicationScript: s })) }) as unknown as CompiledSpec;

describe('cli - application scripts beside the spec', () => {
  it('reads script files relative to the spec and leaves library names alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'phoenix-scripts-'));
    await mkdir(join(dir, 'apps'));
    await writeFile(join(dir, 'apps', 'hello.sh'), 'echo hello\n');
    const files = await readSpecScripts(specWith('apps/hello.sh', 'vllm', 'apps/hello.sh'), join(dir, 'cluster.yaml'));
    expect(files).toEqual({ 'apps/hello.sh': 'echo hello\n' });
  });

  it('names the guest field and value when a script file is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'phoenix-scripts-'));
    await expect(readSpecScripts(specWith('vllm', 'missing.sh'), join(dir, 'cluster.yaml'))).rejects.toThrow(
      /containers\.1\.applicationScript: no such file beside the spec .*\(got "missing\.sh"\)/,
    );
  });
});
