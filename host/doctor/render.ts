import type { CheckResult } from "./types.js";

const HEADER = ["CHECK", "STATUS", "DETAIL"] as const;

export function summary(results: readonly CheckResult[]): string {
  const count = (status: CheckResult["status"]) => results.filter((r) => r.status === status).length;
  const [warns, fails] = [count("warn"), count("fail")];
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (fails > 0) return `not fit to serve: ${plural(fails, "failure")}, ${plural(warns, "warning")}`;
  if (warns > 0) return `fit to serve, with ${plural(warns, "warning")}`;
  return `fit to serve: all ${results.length} checks ok`;
}

/**
 * Aligned columns, and under each warn or fail its fix, indented to the detail column so the eye
 * goes from the problem straight to what to do about it.
 */
export function renderTable(results: readonly CheckResult[]): string {
  const rows = results.map((r) => [r.check, r.status, r.detail] as const);
  const [checkWidth, statusWidth] = [0, 1].map((i) =>
    Math.max(HEADER[i]?.length ?? 0, ...rows.map((row) => row[i]?.length ?? 0)),
  ) as [number, number];
  const indent = " ".repeat(checkWidth + statusWidth + 4);
  const line = (cells: readonly string[]) =>
    `${(cells[0] ?? "").padEnd(checkWidth)}  ${(cells[1] ?? "").padEnd(statusWidth)}  ${cells[2] ?? ""}`.trimEnd();
  const out = [line(HEADER)];
  for (const result of results) {
    out.push(line([result.check, result.status, result.detail]));
    if (result.fix !== undefined) out.push(`${indent}fix: ${result.fix}`);
  }
  return `${out.join("\n")}\n\n${summary(results)}\n`;
}

export function renderJson(results: readonly CheckResult[]): string {
  const fit = results.every((r) => r.status !== "fail");
  return `${JSON.stringify({ fit, summary: summary(results), checks: results }, null, 2)}\n`;
}
