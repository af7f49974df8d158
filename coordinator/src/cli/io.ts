/** Where the CLI writes (data on stdout, messages on stderr) and how it renders data. */
import { InvalidArgumentError } from '@phoenix/shared';

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Epoch milliseconds; the only clock the CLI reads. */
  now(): number;
}

export const processIO: CliIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  now: () => Date.now(),
};

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseFormat(value: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new InvalidArgumentError('--output', value, `must be one of ${OUTPUT_FORMATS.join(', ')}`);
}

/** json and yaml print `data`; table prints what `table()` returns. The YAML writer loads only when asked for. */
export async function render(io: CliIO, format: OutputFormat, data: unknown, table: () => string): Promise<void> {
  if (format === 'json') io.out(`${JSON.stringify(data, null, 2)}\n`);
  else if (format === 'yaml') io.out((await import('yaml')).stringify(data, { lineWidth: 0 }));
  else io.out(table());
}

/** Left-aligned columns, two spaces apart, header underlined by nothing but its own line. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

export function mib(n: number): string {
  return n >= 10240 ? `${(n / 1024).toFixed(0)}G` : `${Math.round(n)}M`;
}
