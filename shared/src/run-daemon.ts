/**
 * The process shell both daemons share: start, drain on SIGTERM/SIGINT (exit 0), and exit 1 on an
 * uncaught exception or unhandled rejection, so that systemd restarts the service.
 */
import { ExitCode, exitCodeOf } from './errors.js';
import type { Logger } from './logger.js';

export interface RunnableDaemon {
  start(): Promise<void>;
  /** `reason`: the signal, or why start failed. */
  stop(reason: string): Promise<void>;
}

/** Runs `daemon` until a signal has stopped it; resolves with the process exit code. */
export async function runDaemon(daemon: RunnableDaemon, log: Logger, name: string): Promise<number> {
  const fatal = (kind: string) => (err: unknown) => {
    log.fatal({ err }, `${kind}: the ${name} exits so that systemd restarts it`);
    process.exit(ExitCode.FAILED);
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled rejection'));
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'signal received');
      daemon.stop(signal).then(resolve, fatal('shutdown failed'));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  try {
    await daemon.start();
  } catch (err) {
    log.fatal({ err }, `the ${name} could not start`);
    await daemon.stop('start failed').catch(() => undefined);
    return exitCodeOf(err) === ExitCode.INVALID ? ExitCode.INVALID : ExitCode.FAILED;
  }
  await stopped;
  return ExitCode.OK;
}
