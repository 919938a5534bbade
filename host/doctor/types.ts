/** ok: nothing to do; warn: the gateway serves, with less; fail: it would not serve as configured. */
export type CheckStatus = "ok" | "warn" | "fail";

export interface CheckResult {
  /** Short name of what was checked, e.g. `data dir`, `model tiny-demo`. */
  check: string;
  status: CheckStatus;
  detail: string;
  /** What the operator can do about a warn or fail, in words they can act on. */
  fix?: string;
}

export const ok = (check: string, detail: string): CheckResult => ({ check, status: "ok", detail });

export const warn = (check: string, detail: string, fix: string): CheckResult => ({
  check,
  status: "warn",
  detail,
  fix,
});

export const fail = (check: string, detail: string, fix: string): CheckResult => ({
  check,
  status: "fail",
  detail,
  fix,
});

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
