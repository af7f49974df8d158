/** One error for an invalid spec that lists every problem found, each naming its path and value. */
import { z } from 'zod';
import { InvalidArgumentError, describeZodError, formatPath, formatValue } from '@phoenix/shared';

export interface SpecIssue {
  readonly path: string;
  readonly value: unknown;
  readonly reason: string;
}

export class SpecError extends InvalidArgumentError {
  /** One line per problem: `path: reason (got value)`. */
  readonly lines: readonly string[];

  constructor(field: string, value: unknown, lines: readonly string[], options: { cause?: unknown } = {}) {
    super(field, value, lines[0] ?? 'invalid spec', options);
    this.lines = lines;
    this.message = lines.join('\n');
  }

  static fromIssues(issues: readonly SpecIssue[], root = ''): SpecError {
    const lines = issues.map((i) => formatIssue(i, root));
    const first = issues[0];
    return new SpecError(prefixed(root, first?.path ?? ''), first?.value, lines);
  }

  /** Every zod issue as a line; unknown keys are reported one per key, under their own path. */
  static fromZod(error: z.ZodError, input: unknown, root = ''): SpecError {
    const issues: z.core.$ZodIssue[] = [];
    for (const issue of error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          issues.push({ ...issue, keys: [key], path: [...issue.path, key], message: 'unknown field' });
        }
      } else {
        issues.push(issue);
      }
    }
    const normalized = new z.ZodError(issues);
    const lines = describeZodError(normalized, input, root);
    const first = issues[0];
    const field = formatPath([root, ...(first?.path ?? [])]) || '(root)';
    return new SpecError(field, first ? valueAt(input, first.path) : input, lines, { cause: error });
  }
}

export function formatIssue(issue: SpecIssue, root = ''): string {
  const path = prefixed(root, issue.path) || '(root)';
  return issue.value === undefined
    ? `${path}: ${issue.reason}`
    : `${path}: ${issue.reason} (got ${formatValue(issue.value)})`;
}

function prefixed(root: string, path: string): string {
  return [root, path].filter(Boolean).join('.');
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}
