#!/usr/bin/env node
// Fails when agent/ and coordinator/ import each other, when shared/ imports either, when the CLI
// imports the coordinator daemon, when the CLI's command definitions load more than they need to
// print help (the work of a command is imported when it runs), or when the built packages or the emulator contain an import
// cycle. Reads the compiled JS so it checks what really runs.
import madge from 'madge';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const rules = [
  { from: 'agent', forbidden: ['@phoenix/coordinator', '/coordinator/'] },
  { from: 'coordinator', forbidden: ['@phoenix/agent', '/agent/src', '/agent/dist'] },
  { from: 'shared', forbidden: ['@phoenix/agent', '@phoenix/coordinator', '@phoenix/test'] },
  // The CLI talks to the cluster through the state store and the agents, never through the daemon.
  { from: 'coordinator', under: 'cli', forbidden: ['/daemon/'] },
];
const importRe = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'gen') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.ts$/.test(name) && !name.endsWith('.d.ts')) yield p;
  }
}

const problems = [];
for (const rule of rules) {
  for (const file of files(join(root, rule.from, 'src', rule.under ?? ''))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2] ?? '';
      if (rule.forbidden.some((f) => spec.includes(f))) problems.push(`${relative(root, file)} imports ${spec}`);
    }
  }
}

// What `phoenix --help` loads: the command tree and nothing heavy. Type imports are free.
const lightCli = ['cli/main.ts', 'cli/program.ts', 'cli/io.ts', 'cli/version.ts', 'cli/commands'];
const lightAllowed = [/^node:/, /^@commander-js\/extra-typings$/, /^@phoenix\/shared$/, /^zod\/v4\/core$/, /^\.\.?\/(io|version|program|commands\/[a-z-]+|[a-z-]+)\.js$/];
const staticImportRe = /^\s*(?:import|export)\s+(?!type\s)[^'"]*?from\s*['"]([^'"]+)['"]/gm;
for (const entry of lightCli) {
  const path = join(root, 'coordinator/src', entry);
  const list = statSync(path).isDirectory() ? [...files(path)] : [path];
  for (const file of list.filter((f) => !f.endsWith('.test.ts'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(staticImportRe)) {
      const spec = m[1] ?? '';
      if (!lightAllowed.some((re) => re.test(spec))) problems.push(`${relative(root, file)} loads ${spec} at start-up (import it inside the action)`);
    }
  }
}

for (const dir of ['shared/dist', 'agent/dist', 'coordinator/dist', 'test/dist/emulator/src']) {
  const result = await madge(join(root, dir), { fileExtensions: ['js'], excludeRegExp: [/\.d\.ts$/, /cli-bundle/] });
  for (const cycle of result.circular()) problems.push(`import cycle in ${dir}: ${cycle.join(' -> ')}`);
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('boundaries ok: agent/coordinator independent, shared standalone, CLI apart from the daemon, CLI start-up light, no import cycles');
