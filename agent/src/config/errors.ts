import { PhoenixError, type PhoenixErrorOptions } from '@phoenix/shared';

/** The configuration is invalid; `issues` has one line per problem, each naming the field and the value. */
export class ConfigError extends PhoenixError {
  readonly code = 'INVALID_ARGUMENT';
  readonly issues: string[];
  constructor(source: string, issues: string[], options: PhoenixErrorOptions = {}) {
    super(`invalid configuration (${source}):\n  ${issues.join('\n  ')}`, options);
    this.issues = issues;
  }
}
