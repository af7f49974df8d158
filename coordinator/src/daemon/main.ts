/** Entry point of phoenix-coordinator. */
import { parseArgs } from 'node:util';
import { exitCodeOf } from '@phoenix/shared';
import { loadCoordinatorConfig } from './config.js';
import { CoordinatorDaemon } from './daemon.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
  if (!values.config) {
    process.stderr.write('usage: phoenix-coordinator --config <file>\n');
    process.exit(2);
  }
  const daemon = new CoordinatorDaemon(await loadCoordinatorConfig(values.config));
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void daemon.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await daemon.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`phoenix-coordinator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(exitCodeOf(err));
});
