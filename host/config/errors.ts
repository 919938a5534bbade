/** One thing wrong with the configuration, named so an operator can find and fix it. */
export interface ConfigIssue {
  /** What is wrong: a dotted key (`server.port`), a flag (`--prot`) or a variable (`GATEWAY_PROT`). */
  subject: string;
  message: string;
  /** Where the bad value came from, e.g. `from GATEWAY_PORT="abc"`; absent when it is obvious. */
  source?: string;
}

export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.source === undefined ? "" : ` (${issue.source})`;
  return `${issue.subject}: ${issue.message}${where}`;
}

/**
 * Thrown for any configuration the gateway refuses to start with. The message lists every issue,
 * one per line, so a single start-up attempt shows everything that needs fixing.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatConfigIssue).join("\n"));
    this.issues = issues;
  }
}
