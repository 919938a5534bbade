import { describe, expect, it } from "vitest";
import { at, deploymentPath, isRecord, readYaml, run, skipWithout } from "./support.js";

interface Rule {
  alert?: unknown;
  expr?: unknown;
  for?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

const ALERTS = deploymentPath("prometheus", "alerts.yml");
const CONFIG = deploymentPath("prometheus", "prometheus.yml");
const RULE_TESTS = deploymentPath("prometheus", "alerts.test.yml");

const groups = at(readYaml(ALERTS), "groups") as { name: string; rules: Rule[] }[];
const rules = groups.flatMap((group) => group.rules);

/** Brackets and quotes balance: the structural check that stands in where promtool is missing. */
function balanced(expr: string): boolean {
  const closers: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
  const stack: string[] = [];
  let quoted = false;
  for (const [i, ch] of [...expr].entries()) {
    if (ch === '"' && expr[i - 1] !== "\\") quoted = !quoted;
    if (quoted) continue;
    if (ch in closers) stack.push(closers[ch] ?? "");
    else if (ch === ")" || ch === "]" || ch === "}") {
      if (stack.pop() !== ch) return false;
    }
  }
  return stack.length === 0 && !quoted;
}

describe("deployment/prometheus/alerts.yml", () => {
  it("gives every rule a unique name, an expression, a for, a severity and a summary and description", () => {
    expect(groups.length).toBeGreaterThan(0);
    expect(rules.length).toBeGreaterThanOrEqual(8);
    const names = new Set<string>();
    for (const rule of rules) {
      const name = String(rule.alert);
      expect(name, JSON.stringify(rule)).toMatch(/^EdgeGateway[A-Z]\w+$/);
      expect(names.has(name), name).toBe(false);
      names.add(name);
      expect(typeof rule.expr === "string" && rule.expr.trim() !== "", name).toBe(true);
      expect(balanced(String(rule.expr)), name).toBe(true);
      expect(String(rule.for), name).toMatch(/^\d+[smhd]$/);
      expect(["critical", "warning", "info"], name).toContain(rule.labels?.severity);
      expect(isRecord(rule.annotations), name).toBe(true);
      for (const key of ["summary", "description"]) {
        expect(
          typeof rule.annotations?.[key] === "string" && rule.annotations[key] !== "",
          `${name} ${key}`,
        ).toBe(true);
      }
    }
  });

  it("covers the failures an operator of a device fleet needs to hear about", () => {
    const names = rules.map((rule) => String(rule.alert));
    for (const name of [
      "EdgeGatewayDown",
      "EdgeGatewayCloudUnreachable",
      "EdgeGatewayQueueGrowing",
      "EdgeGatewayDeadLetters",
      "EdgeGatewayCircuitOpen",
      "EdgeGatewayRunnerRestarting",
    ]) {
      expect(names).toContain(name);
    }
  });

  it("has a promtool unit test for every alert", () => {
    const tests = at(readYaml(RULE_TESTS), "tests") as { alert_rule_test: { alertname: string }[] }[];
    const tested = new Set(tests.flatMap((t) => t.alert_rule_test.map((a) => a.alertname)));
    expect(rules.map((rule) => String(rule.alert)).filter((name) => !tested.has(name))).toEqual([]);
  });

  it.skipIf(skipWithout("promtool"))("passes promtool check rules", () => {
    const res = run("promtool", ["check", "rules", ALERTS]);
    expect(res.stdout + res.stderr).toContain("SUCCESS");
    expect(res.status).toBe(0);
  });

  it.skipIf(skipWithout("promtool"))(
    "fires and stays quiet as alerts.test.yml expects (promtool test rules)",
    () => {
      const res = run("promtool", ["test", "rules", RULE_TESTS]);
      expect(res.stdout + res.stderr).toContain("SUCCESS");
      expect(res.status).toBe(0);
    },
  );
});

describe("deployment/prometheus/prometheus.yml", () => {
  const config = readYaml(CONFIG);

  it("loads the alert rules and scrapes the gateway under the job name the rules match", () => {
    expect(at(config, "rule_files")).toEqual(["alerts.yml"]);
    const jobs = at(config, "scrape_configs") as {
      job_name: string;
      static_configs: { targets: string[] }[];
    }[];
    const gateway = jobs.find((job) => job.job_name === "edge-gateway");
    expect(gateway).toBeDefined();
    expect(gateway?.static_configs[0]?.targets).toEqual(["gateway:8080"]);
    const down = rules.find((rule) => rule.alert === "EdgeGatewayDown");
    expect(String(down?.expr)).toContain('job="edge-gateway"');
  });

  it.skipIf(skipWithout("promtool"))("passes promtool check config", () => {
    const res = run("promtool", ["check", "config", CONFIG]);
    expect(res.stdout + res.stderr).toContain("SUCCESS");
    expect(res.status).toBe(0);
  });
});
