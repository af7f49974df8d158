/**
 * `phoenix-coordinator --config <file>`: loads the config (exit 2 when invalid), starts the daemon
 * and drains it on SIGTERM/SIGINT (exit 0). An unhandled rejection or uncaught exception is logged
 * and ends the process with exit 1, so that systemd restarts it.
 */
import { parseArgs } from 'node:util';
import { createLogger, ExitCode, exitCodeOf, runDaemon } from '@phoenix/shared';
import { loadCoordinatorConfig } from './config.js';
import { CoordinatorDaemon } from './daemon.js';

const USAGE = 'usage: phoenix-coordinator --config <file> [--check]\n';

async function main(): Promise<number> {
  let values;
  try {
    values = parseArgs({ options: { config: { type: 'string', short: 'c' }, check: { type: 'boolean', default: false } } }).values;
  } catch (err) {
    process.stderr.write(`phoenix-coordinator: ${(err as Error).message}\n${USAGE}`);
    return ExitCode.INVALID;
  }
  if (!values.config) {
    process.stderr.write(USAGE);
    return ExitCode.INVALID;
  }
  const config = await loadCoordinatorConfig(values.config);
  if (values.check) {
    process.stdout.write(`configuration ok: coordinator ${config.id}, cluster ${config.context.cluster}\n`);
    return ExitCode.OK;
  }
  const log = createLogger({ service: 'phoenix-coordinator', node: config.id, ...(config.logLevel ? { level: config.logLevel } : {}) });
  const daemon = new CoordinatorDaemon(config, log);
  return runDaemon({ start: () => daemon.start(), stop: () => daemon.stop() }, log, 'coordinator');
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`phoenix-coordinator: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(exitCodeOf(err));
  },
);
