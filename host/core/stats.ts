import { AllowResult, codeName, Decision, RetryClass, Ticket } from "./codes.js";

const TABLES = {
  allow: AllowResult,
  route: Decision,
  target_start: Ticket,
  retry_classify: RetryClass,
} as const;
export type CoreOp = keyof typeof TABLES;

/**
 * Decision counts kept as plain integers on the hot path and turned into labelled series only when
 * metrics are scraped.
 */
export class CoreStats {
  traps = 0;
  private readonly counts: Record<CoreOp, number[]> = {
    allow: [0, 0, 0, 0],
    route: [0, 0, 0, 0],
    target_start: [0, 0, 0],
    retry_classify: [0, 0, 0, 0, 0],
  };

  count(op: CoreOp, code: number): void {
    const row = this.counts[op];
    if (code >= 0 && code < row.length) row[code] = (row[code] ?? 0) + 1;
  }

  /** `{op: {result: count}}` with snake_case result names. */
  decisions(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const op of Object.keys(TABLES) as CoreOp[]) {
      const named: Record<string, number> = {};
      this.counts[op].forEach((n, code) => {
        named[codeName(TABLES[op], code)] = n;
      });
      out[op] = named;
    }
    return out;
  }
}
