/**
 * `phoenix-agent --config <file>`: loads the config (exit 2 when invalid), starts the daemon and
 * drains it on SIGTERM/SIGINT (exit 0). A second signal cuts the grace period short.
 */
import { parseArgs } from 'node:util';
import { createLogger, ExitCode, runDaemon, type Logger } from '@phoenix/shared';
import { createPipelineBackend } from './backend-factory.js';
import { ConfigError, loadConfig, type CompiledConfig } from './config/index.js';
import { AgentDaemon } from './daemon.js';
import { AGENT_VERSION } from './version.js';
import { isEntryModule } from './entry.js';

const USAGE = `usage: phoenix-agent --config <file> [--check]

  --config <file>  agent configuration (YAML); also $PHOENIX_AGENT_CONFIG
  --check          validate the configuration and exit
  --version        print the version

Fields can be overridden with PHOENIX_AGENT_<FIELD>[__<SUBFIELD>] environment variables.`;

export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        check: { type: 'boolean', default: false },
        version: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    process.stderr.write(`phoenix-agent: ${(err as Error).message}\n${USAGE}\n`);
    return ExitCode.INVALID;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.OK;
  }
  if (args.version) {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return ExitCode.OK;
  }
  const path = args.config ?? process.env['PHOENIX_AGENT_CONFIG'];
  if (!path) {
    process.stderr.write(`phoenix-agent: --config is required\n${USAGE}\n`);
    return ExitCode.INVALID;
  }
  let config: CompiledConfig;
  try {
    config = loadConfig(path);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`phoenix-agent: ${err.message}\n`);
      return ExitCode.INVALID;
    }
    throw err;
  }
  if (args.check) {
    process.stdout.write(`configuration ok: node ${config.node}, cluster ${config.cluster}\n`);
    return ExitCode.OK;
  }
  const log = createLogger({ service: 'phoenix-agent', node: config.node, level: config.logLevel });
  return run(config, log);
}

async function run(config: CompiledConfig, log: Logger): Promise<number> {
  const daemon = new AgentDaemon({ config, logger: log, backend: createPipelineBackend(config) });
  return runDaemon({ start: () => daemon.start(), stop: (reason) => daemon.stop(reason) }, log, 'agent');
}

// Run when started as a script (`node agent/dist/main.js --config …`); the bin imports main() instead.
if (isEntryModule(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`phoenix-agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(ExitCode.FAILED);
    },
  );
}
