/**
 * Just enough PromQL reading to check which metrics and labels an alert or a dashboard query uses:
 * the vector selectors with their matchers, and the labels of `by`/`without`/`on`/`ignoring`
 * clauses. Syntax itself is promtool's job; this only has to find names reliably.
 */

export interface Matcher {
  label: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

export interface Selector {
  metric: string;
  matchers: Matcher[];
}

export interface QueryRefs {
  selectors: Selector[];
  /** Labels named in grouping and vector-matching clauses. */
  groupingLabels: string[];
}

const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"]);
const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
const MATCHER = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g;

/** Grafana's `$__rate_interval` and friends become a plain duration so the text reads as PromQL. */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)/g, "5m");
}

export function queryRefs(rawExpr: string): QueryRefs {
  const expr = withoutGrafanaVariables(rawExpr);
  const groupingLabels: string[] = [];
  let rest = expr.replace(GROUPING, (_all, _kw: string, labels: string) => {
    for (const label of labels.split(",")) if (label.trim() !== "") groupingLabels.push(label.trim());
    return " ";
  });
  // Range and subquery brackets hold durations only.
  rest = rest.replace(/\[[^\]]*\]/g, " ");

  const selectors: Selector[] = [];
  const token = /([a-zA-Z_:][a-zA-Z0-9_:]*)|(\{[^}]*\})|("(?:[^"\\]|\\.)*")|([0-9][0-9a-zA-Z.]*)/g;
  let pending: Selector | undefined;
  for (let m = token.exec(rest); m !== null; m = token.exec(rest)) {
    const [text, ident, braces] = m;
    if (braces !== undefined) {
      if (pending !== undefined) pending.matchers.push(...matchersOf(braces));
      pending = undefined;
      continue;
    }
    pending = undefined;
    if (ident === undefined) continue;
    const after = rest.slice(m.index + text.length).trimStart();
    if (after.startsWith("(") || KEYWORDS.has(ident)) continue;
    pending = { metric: ident, matchers: [] };
    selectors.push(pending);
  }
  return { selectors, groupingLabels };
}

function matchersOf(braces: string): Matcher[] {
  return [...braces.matchAll(MATCHER)].map(([, label = "", op = "=", value = ""]) => ({
    label,
    op: op as Matcher["op"],
    value,
  }));
}

/**
 * The literal values a matcher accepts, when it names them: `a` for `="a"`, `a` and `b` for
 * `=~"a|b"`. Undefined for negative matchers, real regular expressions and template variables.
 */
export function literalValues(matcher: Matcher): string[] | undefined {
  if (matcher.value.includes("$")) return undefined;
  if (matcher.op === "=") return [matcher.value];
  if (matcher.op !== "=~") return undefined;
  const parts = matcher.value.split("|");
  return parts.every((part) => /^[\w/-]+$/.test(part)) ? parts : undefined;
}
