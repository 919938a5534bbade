import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Registry } from "prom-client";
import { loadConfig } from "../../host/config/index.js";
import { createLogger } from "../../host/logger.js";
import { startGateway } from "../../host/main.js";
import { createMetrics } from "../../host/metrics/index.js";
import { createQueueMetrics, type QueueStore } from "../../host/queue/index.js";
import { type RunnerSupervisor, registerRunnerMetrics } from "../../host/runner/index.js";
import { literalValues, queryRefs, withoutGrafanaVariables } from "./promql.js";
import { REPO } from "./support.js";

/** What a series name can be queried with: its labels, and the values seen or written for them. */
export interface KnownMetric {
  type: string;
  labels: Set<string>;
}

export interface KnownMetrics {
  metrics: Map<string, KnownMetric>;
  /** `metric:label` -> label values the gateway emitted. */
  values: Map<string, Set<string>>;
  /** Every double-quoted string literal in host/: where label values such as outcomes are written. */
  sourceLiterals: Set<string>;
}

/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ["job", "instance"];

/**
 * The metrics `/metrics` serves, registered the way host/main.ts registers them (the gateway's
 * registry, the queue's and the runner's metrics), read at scrape time from stand-ins that report
 * every status a label can take.
 */
export function buildGatewayRegistry(): Registry {
  const core = {
    stats: { traps: 0, decisions: () => ({ allow: { allow: 1 }, route: { local: 1 } }) },
    memoryBytes: () => 65_536,
  };
  const { registry } = createMetrics({
    getCore: () => core,
    isReady: () => true,
    targets: {
      circuits: () => [{ target: "local/tiny-demo", state: 0 }],
      cloudReachable: () => true,
    },
  });
  const byStatus = { queued: 1, inflight: 0, done: 0, failed: 0, dead: 0, cancelled: 0 };
  const store = { stats: () => ({ byStatus, oldestActiveAtMs: undefined, activeBytes: 0 }) };
  createQueueMetrics(registry, () => store as unknown as QueueStore);
  const supervisor = {
    state: () => ({
      status: "ready",
      models: [{ id: "tiny-demo", state: "loaded", queued: 0, loadMs: 10, tokensPerSecond: 100 }],
    }),
    addListener: () => () => undefined,
  };
  registerRunnerMetrics(registry, supervisor as unknown as RunnerSupervisor);
  return registry;
}

function addValue(values: Map<string, Set<string>>, metric: string, label: string, value: string): void {
  const key = `${metric}:${label}`;
  const set = values.get(key) ?? new Set<string>();
  set.add(value);
  values.set(key, set);
}

/** Route patterns come from Hono at request time; ask a real gateway for them. */
async function liveRouteLabels(): Promise<string[]> {
  const dataDir = mkdtempSync(join(tmpdir(), "gw-deploy-"));
  const config = loadConfig({
    env: { GATEWAY_PORT: "0", GATEWAY_DATA_DIR: dataDir, GATEWAY_MODELS__ENABLED: "false" },
  });
  const gateway = await startGateway(config, {
    logger: createLogger({ level: "silent" }),
    handleSignals: false,
  });
  try {
    await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "hi" }] }),
    }).then((res) => res.arrayBuffer());
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    return [...text.matchAll(/^gateway_http_requests_total\{[^}]*route="([^"]*)"/gm)].map((m) => m[1] ?? "");
  } finally {
    await gateway.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

export async function knownGatewayMetrics(): Promise<KnownMetrics> {
  const registry = buildGatewayRegistry();
  const metrics = new Map<string, KnownMetric>();
  for (const metric of registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    const labelNames = (metric as unknown as { labelNames?: string[] }).labelNames ?? [];
    const labels = new Set([...labelNames, ...TARGET_LABELS]);
    if (type === "histogram") {
      // A histogram exists only as its three series; its bare name selects nothing.
      metrics.set(`${name}_bucket`, { type, labels: new Set([...labels, "le"]) });
      metrics.set(`${name}_sum`, { type, labels });
      metrics.set(`${name}_count`, { type, labels });
    } else {
      metrics.set(name, { type, labels });
    }
  }
  // Recorded by Prometheus itself for every scrape.
  metrics.set("up", { type: "gauge", labels: new Set(TARGET_LABELS) });

  const values = new Map<string, Set<string>>();
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const sample of metric.values) {
      for (const [label, value] of Object.entries(sample.labels)) {
        for (const series of [metric.name, `${metric.name}_bucket`, `${metric.name}_count`]) {
          addValue(values, series, label, String(value));
        }
      }
    }
  }
  for (const route of await liveRouteLabels()) {
    for (const series of ["gateway_http_requests_total", "gateway_http_request_duration_seconds_bucket"]) {
      addValue(values, series, "route", route);
    }
  }

  const sourceLiterals = new Set<string>();
  for (const file of sourceFiles(join(REPO, "host"))) {
    for (const m of readFileSync(file, "utf8").matchAll(/"([^"\\\n]*)"/g)) sourceLiterals.add(m[1] ?? "");
  }
  return { metrics, values, sourceLiterals };
}

/**
 * What is wrong with a query against the gateway's metrics: unknown metric names, labels a metric
 * does not have, label values it never takes, grouping labels no selector carries, and `shown`
 * labels (a legend's `{{label}}`, an annotation's `$labels.label`) the result does not have.
 */
export function metricProblems(expr: string, known: KnownMetrics, shown: readonly string[] = []): string[] {
  const problems: string[] = [];
  const { selectors, groupingLabels } = queryRefs(expr);
  if (selectors.length === 0) problems.push("selects no metric");
  const available = new Set<string>(TARGET_LABELS);
  for (const { metric, matchers } of selectors) {
    if (metric.startsWith("gateway_mcp_")) {
      problems.push(`${metric}: MCP metrics are not part of the gateway yet`);
      continue;
    }
    const info = known.metrics.get(metric);
    if (info === undefined) {
      problems.push(`${metric}: no such metric on /metrics`);
      continue;
    }
    for (const label of info.labels) available.add(label);
    for (const matcher of matchers) {
      if (!info.labels.has(matcher.label)) {
        problems.push(`${metric}: no label ${matcher.label}`);
        continue;
      }
      if (TARGET_LABELS.includes(matcher.label)) continue;
      const seen = known.values.get(`${metric}:${matcher.label}`) ?? new Set<string>();
      for (const value of literalValues(matcher) ?? []) {
        if (!seen.has(value) && !known.sourceLiterals.has(value)) {
          problems.push(`${metric}: ${matcher.label}="${value}" is never emitted`);
        }
      }
    }
  }
  for (const label of groupingLabels) {
    if (!available.has(label)) problems.push(`grouping label ${label} is on none of the selected metrics`);
  }
  // An aggregation keeps only its `by` labels; otherwise the selected series keep all of theirs.
  const byLabels = [...withoutGrafanaVariables(expr).matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) =>
    (m[1] ?? "").split(",").map((label) => label.trim()),
  );
  const resultLabels = byLabels.length > 0 ? new Set(byLabels.filter((l) => l !== "le")) : available;
  for (const label of shown) {
    if (!resultLabels.has(label)) problems.push(`${label} is not a label of the result`);
  }
  return problems;
}

/** `{{target}}` in a Grafana legend. */
export function legendLabels(legendFormat: string | undefined): string[] {
  return [...(legendFormat ?? "").matchAll(/\{\{\s*([a-zA-Z_]\w*)\s*\}\}/g)].map((m) => m[1] ?? "");
}

/** `{{ $labels.target }}` in an alert's annotations. */
export function annotationLabels(text: string): string[] {
  return [...text.matchAll(/\$labels\.([a-zA-Z_]\w*)/g)].map((m) => m[1] ?? "");
}
