/** The pino logger factory: JSON to stdout (journald) with secret fields always redacted. */
import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

/** Keys whose values are never written, wherever they appear (two levels deep). */
export const REDACTED_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'seed',
  'creds',
  'privateKey',
  'private_key',
  'key',
  'authorization',
  'cipassword',
  'pullSecret',
  'pull_secret',
] as const;

export const REDACT_PATHS: string[] = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LoggerFactoryOptions {
  service: string;
  level?: string;
  node?: string;
  /** Where to write; defaults to stdout. Tests pass a stream. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerFactoryOptions): Logger {
  const base: Record<string, string> = { service: options.service };
  if (options.node) base['node'] = options.node;
  const config: LoggerOptions = {
    level: options.level ?? process.env['PHOENIX_LOG_LEVEL'] ?? 'info',
    base,
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    serializers: { err: pino.stdSerializers.err },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

export type { Logger } from 'pino';
