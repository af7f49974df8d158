import { createImage } from './create-image.js';
import { FatalExit, Logger, parseLevel } from './log.js';

/**
 * Entry of the emulated `openshift-install` (test/emulator/bin/openshift-install): the agent
 * subcommands, the root flags `--dir` and `--log-level`, and cobra's handling of the rest.
 * Not tied to a PVE node: wait-for finds the cluster's VMs on the nodes in PHOENIX_EMULATOR_NODES.
 */
interface Parsed {
  words: string[];
  dir: string;
  logLevel: string;
  error?: string;
}

function parseArgs(argv: string[]): Parsed {
  const out: Parsed = { words: [], dir: '.', logLevel: 'info' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const m = /^--(dir|log-level)(?:=(.*))?$/.exec(a);
    if (m) {
      const value = m[2] ?? argv[++i];
      if (value === undefined) return { ...out, error: `flag needs an argument: --${m[1]}` };
      if (m[1] === 'dir') out.dir = value;
      else out.logLevel = value;
    } else if (a.startsWith('-')) return { ...out, error: `unknown flag: ${a}` };
    else out.words.push(a);
  }
  return out;
}

const COMMANDS: Record<string, string[]> = {
  'openshift-install': ['agent', 'version'],
  'openshift-install agent': ['create', 'wait-for'],
  'openshift-install agent create': ['image'],
  'openshift-install agent wait-for': ['bootstrap-complete', 'install-complete'],
};

async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const level = parseLevel(args.logLevel);
  const log: Logger = new Logger(level ?? 'info');
  if (args.error) log.fatal(`Error executing openshift-install: ${args.error}`);
  if (!level) log.fatal(`invalid log-level: not a valid logrus Level: ${JSON.stringify(args.logLevel)}`);
  let cmd = 'openshift-install';
  for (const w of args.words) {
    const subs = COMMANDS[cmd];
    if (!subs) log.fatal(`Error executing openshift-install: accepts 0 arg(s), received ${args.words.length - cmd.split(' ').length + 1}`);
    if (!subs.includes(w)) log.fatal(`Error executing openshift-install: unknown command ${JSON.stringify(w)} for ${JSON.stringify(cmd)}`);
    cmd = `${cmd} ${w}`;
  }
  switch (cmd) {
    case 'openshift-install version':
      process.stdout.write('openshift-install 4.18.0\nbuilt from commit 0000000000000000000000000000000000000000\nrelease image quay.io/openshift-release-dev/ocp-release@sha256:0000000000000000000000000000000000000000000000000000000000000000\nrelease architecture amd64\n');
      return 0;
    case 'openshift-install agent create image':
      return createImage(log, args.dir);
    case 'openshift-install agent wait-for bootstrap-complete':
    case 'openshift-install agent wait-for install-complete': {
      const { waitFor } = await import('./wait-for.js');
      return waitFor(log, args.dir, cmd.endsWith('install-complete') ? 'install-complete' : 'bootstrap-complete');
    }
    default:
      process.stdout.write(`Usage:\n  ${cmd} [command]\n\nAvailable Commands:\n${(COMMANDS[cmd] ?? []).map((c) => `  ${c}\n`).join('')}`);
      return 0;
  }
}

export async function main(argv: string[]): Promise<void> {
  try {
    process.exitCode = await run(argv);
  } catch (err) {
    if (err instanceof FatalExit) process.exitCode = err.exitCode;
    else {
      process.stderr.write(`openshift-install (emulator): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 255;
    }
  }
}
