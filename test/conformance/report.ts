/**
 * Tallies and compares conformance results. A check counts as passed on SUCCESS and as failed on
 * FAILURE or WARNING (the suite's own expected-failures evaluator treats a WARNING as a failure);
 * SKIPPED is counted apart and INFO (request logs) not at all. Two legs agree on a scenario when they
 * produce the same checks with the same statuses, not merely the same counts.
 */
import type { Check } from "./suite.js";

export interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

export interface ScenarioResult extends Tally {
  scored: boolean;
  /** Failed checks as `id: message`, so a reader of the JSON sees why without the raw files. */
  failures: string[];
}

export interface Leg {
  /** Absent when the leg could not run (the gateway did not start, the suite wrote nothing). */
  scenarios?: Record<string, ScenarioResult>;
  scored?: Tally;
  notScored?: Tally;
  error?: string;
}

const zero = (): Tally => ({ passed: 0, failed: 0, skipped: 0 });

function tally(checks: Check[]): Tally {
  const t = zero();
  for (const { status } of checks) {
    if (status === "SUCCESS") t.passed++;
    else if (status === "FAILURE" || status === "WARNING") t.failed++;
    else if (status === "SKIPPED") t.skipped++;
  }
  return t;
}

function add(into: Tally, t: Tally): void {
  into.passed += t.passed;
  into.failed += t.failed;
  into.skipped += t.skipped;
}

export function summarize(checks: Map<string, Check[]>, scored: readonly string[]): Leg {
  const scenarios: Record<string, ScenarioResult> = {};
  const totals = { scored: zero(), notScored: zero() };
  for (const [name, list] of checks) {
    const isScored = scored.includes(name);
    const t = tally(list);
    add(isScored ? totals.scored : totals.notScored, t);
    const failures = list
      .filter((check) => check.status === "FAILURE" || check.status === "WARNING")
      .map((check) => `${check.id}: ${check.errorMessage ?? check.status}`);
    scenarios[name] = { ...t, scored: isScored, failures };
  }
  return { scenarios, ...totals };
}

/** Same checks, same statuses: the order-free fingerprint of one scenario's outcome. */
export function fingerprint(checks: Check[]): string {
  return checks
    .filter((check) => check.status !== "INFO")
    .map((check) => `${check.id}=${check.status}`)
    .sort()
    .join(",");
}

/** Scenarios whose outcome differs between the legs, or that only one leg produced. */
export function differences(fixture: Map<string, Check[]>, gateway: Map<string, Check[]>): string[] {
  const names = new Set([...fixture.keys(), ...gateway.keys()]);
  return [...names].filter((name) => {
    const a = fixture.get(name);
    const b = gateway.get(name);
    return a === undefined || b === undefined || fingerprint(a) !== fingerprint(b);
  });
}

const cell = (t: Tally | undefined) =>
  t === undefined ? "-" : `${t.passed}/${t.failed}${t.skipped > 0 ? ` (${t.skipped} skipped)` : ""}`;

/**
 * One revision's table: scenario rows in requirement-set order, passed/failed per leg, and a note on
 * each scenario whose checks differ (`exempt` ones differ without failing the run).
 */
export function table(
  revision: string,
  order: readonly string[],
  legs: { fixture: Leg; gateway: Leg },
  differing: readonly string[],
  exempt: ReadonlySet<string>,
): string {
  const { fixture, gateway } = legs;
  const seen = [...Object.keys(fixture.scenarios ?? {}), ...Object.keys(gateway.scenarios ?? {})];
  const rows = [...new Set([...order, ...seen])].map((name) => {
    const f = fixture.scenarios?.[name];
    const g = gateway.scenarios?.[name];
    const label = (f ?? g)?.scored === false ? `${name} (not scored)` : name;
    const note = !differing.includes(name) ? "" : exempt.has(name) ? "differs (not scored)" : "DIFFERS";
    return [label, cell(f), cell(g), note];
  });
  rows.push(["scored total", cell(fixture.scored), cell(gateway.scored), ""]);
  rows.push(["not scored total", cell(fixture.notScored), cell(gateway.notScored), ""]);
  const header = [revision, "fixture", "gateway", "passed/failed"];
  const widths = [0, 1, 2].map((i) => Math.max(...[header, ...rows].map((row) => row[i]?.length ?? 0)));
  const line = ([label, f, g, note]: string[]) =>
    `${label?.padEnd(widths[0] ?? 0)}  ${f?.padStart(widths[1] ?? 0)}  ${g?.padStart(widths[2] ?? 0)}  ${note}`.trimEnd();
  const lines = [header, ...rows].map(line);
  if (fixture.error) lines.push(`fixture leg: ${fixture.error}`);
  if (gateway.error) lines.push(`gateway leg: ${gateway.error}`);
  return lines.join("\n");
}
