import { beforeAll, describe, expect, it } from "vitest";
import {
  annotationLabels,
  type KnownMetrics,
  knownGatewayMetrics,
  legendLabels,
  metricProblems,
} from "./gateway-metrics.js";
import { queryRefs } from "./promql.js";
import { at, deploymentPath, isRecord, readText, readYaml } from "./support.js";

interface Rule {
  alert: string;
  expr: string;
  annotations: Record<string, string>;
}

interface Query {
  where: string;
  expr: string;
  shown: string[];
}

function alertQueries(): Query[] {
  const groups = at(readYaml(deploymentPath("prometheus", "alerts.yml")), "groups") as { rules: Rule[] }[];
  return groups.flatMap((group) =>
    group.rules.map((rule) => ({
      where: `alerts.yml ${rule.alert}`,
      expr: rule.expr,
      shown: Object.values(rule.annotations).flatMap(annotationLabels),
    })),
  );
}

function dashboardQueries(): Query[] {
  const dashboard = JSON.parse(readText(deploymentPath("grafana", "dashboard.json"))) as {
    panels: { title: string; targets?: { expr: string; legendFormat?: string }[] }[];
    templating: { list: { name: string; definition?: string }[] };
  };
  const panels = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      where: `dashboard panel "${panel.title}"`,
      expr: target.expr,
      shown: legendLabels(target.legendFormat),
    })),
  );
  // label_values(<selector>, <label>): the selector is a query, the label must be on it.
  const variables = dashboard.templating.list.flatMap((variable) => {
    const m = /^label_values\((.*),\s*(\w+)\)$/.exec(variable.definition ?? "");
    if (m === null) return [];
    return [{ where: `dashboard variable ${variable.name}`, expr: m[1] ?? "", shown: [m[2] ?? ""] }];
  });
  return [...panels, ...variables];
}

let known: KnownMetrics;

beforeAll(async () => {
  known = await knownGatewayMetrics();
});

describe("metric references in alerts.yml and dashboard.json", () => {
  it("finds the gateway's metrics in its registry, as /metrics serves them", () => {
    for (const name of [
      "gateway_ready",
      "gateway_queue_depth",
      "gateway_runner_restarts_total",
      "gateway_http_request_duration_seconds_bucket",
      "process_resident_memory_bytes",
    ]) {
      expect(known.metrics.has(name), name).toBe(true);
    }
    expect(known.values.get("gateway_queue_depth:status")).toEqual(
      new Set(["queued", "inflight", "done", "failed", "dead", "cancelled"]),
    );
    expect(known.values.get("gateway_http_requests_total:route")).toContain("/v1/chat/completions");
  });

  it("uses only metrics, labels and label values the gateway emits in every alert rule", () => {
    const queries = alertQueries();
    expect(queries.length).toBeGreaterThan(5);
    for (const q of queries) expect(metricProblems(q.expr, known, q.shown), q.where).toEqual([]);
  });

  it("uses only metrics, labels and label values the gateway emits in every dashboard query", () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(20);
    for (const q of queries) expect(metricProblems(q.expr, known, q.shown), q.where).toEqual([]);
  });

  it("charts each of the gateway's metric families on the dashboard", () => {
    const charted = new Set(
      dashboardQueries().flatMap((q) =>
        queryRefs(q.expr).selectors.map((s) => s.metric.replace(/_(bucket|sum|count)$/, "")),
      ),
    );
    // The families the dashboard was drawn for; metrics added later are not required here.
    const families = [
      "gateway_circuit_state",
      "gateway_cloud_reachable",
      "gateway_core_decisions_total",
      "gateway_core_memory_bytes",
      "gateway_core_traps_total",
      "gateway_http_request_duration_seconds",
      "gateway_http_requests_total",
      "gateway_model_load_seconds",
      "gateway_model_loaded",
      "gateway_model_queue_depth",
      "gateway_model_queue_wait_seconds",
      "gateway_model_tokens_per_second",
      "gateway_queue_delivery_seconds",
      "gateway_queue_depth",
      "gateway_queue_oldest_age_seconds",
      "gateway_queue_sync_attempts_total",
      "gateway_ratelimit_rejections_total",
      "gateway_ready",
      "gateway_route_decisions_total",
      "gateway_runner_restarts_total",
      "gateway_runner_status",
      "gateway_tokens_total",
      "gateway_upstream_duration_seconds",
    ];
    expect(families.filter((name) => !charted.has(name))).toEqual([]);
  });

  it("reports the mistakes it exists to catch", () => {
    const cases: [string, string[]][] = [
      ["gateway_queue_depht", []],
      ['gateway_queue_depth{status="dead_letter"}', []],
      ['gateway_queue_depth{state="dead"}', []],
      ["rate(gateway_http_request_duration_seconds[5m])", []],
      ["sum by (tenant) (rate(gateway_tokens_total[5m]))", []],
      ["sum by (target) (rate(gateway_tokens_total[5m]))", ["direction"]],
      ['gateway_ready{job="x"} == 0', ["target"]],
      ["rate(gateway_mcp_tool_calls_total[5m])", []],
    ];
    for (const [expr, shown] of cases) {
      expect(metricProblems(expr, known, shown), expr).not.toEqual([]);
    }
    expect(
      metricProblems('sum by (direction) (rate(gateway_tokens_total{direction="out"}[5m]))', known, [
        "direction",
      ]),
    ).toEqual([]);
  });

  it("reads matchers, grouping labels and functions apart", () => {
    const refs = queryRefs(
      'histogram_quantile(0.95, sum by (le, target) (rate(gateway_upstream_duration_seconds_bucket{job=~"$job", outcome="ok"}[$__rate_interval])))',
    );
    expect(refs.selectors).toEqual([
      {
        metric: "gateway_upstream_duration_seconds_bucket",
        matchers: [
          { label: "job", op: "=~", value: "$job" },
          { label: "outcome", op: "=", value: "ok" },
        ],
      },
    ]);
    expect(refs.groupingLabels).toEqual(["le", "target"]);
    expect(isRecord(refs)).toBe(true);
  });
});
