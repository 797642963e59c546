/** One entry per invalid environment variable: its name and what it expects (never its value). */
export interface ConfigIssue {
  readonly variable: string;
  readonly expected: string;
}

/** Thrown by {@link loadConfig} when any variable is missing or invalid; lists every one of them. */
export class ConfigError extends Error {
  constructor(
    readonly issues: readonly ConfigIssue[],
    readonly service: string,
  ) {
    super(
      `Invalid configuration for ${service}: ${issues.length} variable(s) wrong\n` +
        issues.map((i) => `  - ${i.variable}: ${i.expected}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}
