import { describe, expect, it } from "vitest";
import { at, deploymentPath, readText, readYaml } from "./support.js";

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { refId: string; expr: string; datasource?: { uid: string } }[];
}

const dashboard = JSON.parse(readText(deploymentPath("grafana", "dashboard.json"))) as {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: unknown; current?: { value: string } }[] };
};
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal.
const DATASOURCE_VARIABLE = "${datasource}";
const PANEL_TYPES = new Set(["row", "stat", "timeseries", "gauge", "table", "bargauge", "text"]);

describe("deployment/grafana/dashboard.json", () => {
  it("is a dashboard with a stable uid, a title and a schema version", () => {
    expect(dashboard.uid).toBe("edge-gateway");
    expect(dashboard.title).toBe("edge-gateway");
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
  });

  it("has a data source, job and instance variable", () => {
    const byName = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    expect(byName.get("datasource")?.type).toBe("datasource");
    expect(byName.get("datasource")?.query).toBe("prometheus");
    expect(byName.get("job")?.type).toBe("query");
    expect(byName.get("instance")?.type).toBe("query");
  });

  it("gives every panel a unique id, a known type, a title and queries through the data source variable", () => {
    const ids = new Set<number>();
    for (const panel of dashboard.panels) {
      expect(ids.has(panel.id), `id ${panel.id}`).toBe(false);
      ids.add(panel.id);
      expect(PANEL_TYPES.has(panel.type), panel.type).toBe(true);
      expect(panel.title).not.toBe("");
      if (panel.type === "row") continue;
      expect(panel.datasource?.uid, panel.title).toBe(DATASOURCE_VARIABLE);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      const refIds = (panel.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
      for (const target of panel.targets ?? []) expect(target.expr.trim(), panel.title).not.toBe("");
    }
  });

  it("lays panels out on Grafana's 24-column grid without overlaps", () => {
    const cells = new Set<string>();
    for (const { title, gridPos } of dashboard.panels) {
      expect(gridPos.x + gridPos.w, title).toBeLessThanOrEqual(24);
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++) {
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
          const cell = `${x},${y}`;
          expect(cells.has(cell), `${title} overlaps at ${cell}`).toBe(false);
          cells.add(cell);
        }
      }
    }
  });
});

describe("deployment/grafana/provisioning", () => {
  it("provisions a Prometheus data source whose uid the dashboard defaults to", () => {
    const file = readYaml(deploymentPath("grafana", "provisioning", "datasources", "prometheus.yml"));
    expect(at(file, "apiVersion")).toBe(1);
    const source = at(file, "datasources", 0) as { type: string; uid: string; url: string };
    expect(source.type).toBe("prometheus");
    const variable = dashboard.templating.list.find((v) => v.name === "datasource");
    expect(variable?.current?.value).toBe(source.uid);
    expect(source.url).toBe("http://prometheus:9090");
  });

  it("loads dashboards from the directory compose mounts dashboard.json into", () => {
    const file = readYaml(deploymentPath("grafana", "provisioning", "dashboards", "edge-gateway.yml"));
    expect(at(file, "apiVersion")).toBe(1);
    const path = String(at(file, "providers", 0, "options", "path"));
    const compose = readYaml(deploymentPath("compose", "compose.yaml"));
    const mounts = at(compose, "services", "grafana", "volumes") as string[];
    expect(mounts).toContain(`../grafana/dashboard.json:${path}/edge-gateway.json:ro`);
  });
});
