#!/usr/bin/env node
// Makes sure the system tools the demo and the tests run are present: nats-server, a static busybox
// (the emulated guests' userland) and openssl (certificates). As root on Debian/Ubuntu the missing
// ones are installed with apt-get; otherwise it stops with the exact command to run.
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** tool → Debian package that ships it. */
const TOOLS = [
  ['nats-server', 'nats-server'],
  ['busybox', 'busybox-static'],
  ['openssl', 'openssl'],
];
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

function onPath(tool) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS];
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const missing = TOOLS.filter(([tool]) => !onPath(tool)).map(([, pkg]) => pkg);
if (missing.length === 0) process.exit(0);

const command = ['apt-get', 'install', '-y', '--no-install-recommends', ...missing];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !onPath('apt-get')) {
  process.stderr.write(`missing ${missing.join(', ')}: run  sudo apt-get update && sudo ${command.join(' ')}\n`);
  process.exit(1);
}

process.stderr.write(`installing ${missing.join(', ')} with apt-get\n`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
try {
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync(command[0], [...command.slice(1), '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
} catch (err) {
  process.stderr.write(`apt-get failed (${err.message}); run  ${command.join(' ')}\n`);
  process.exit(1);
}
const still = TOOLS.filter(([tool]) => !onPath(tool)).map(([tool]) => tool);
if (still.length > 0) {
  process.stderr.write(`still missing after apt-get: ${still.join(', ')}\n`);
  process.exit(1);
}
