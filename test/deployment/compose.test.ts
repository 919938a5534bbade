import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../host/config/index.js";
import { at, deploymentPath, readEnvFile, readText, readYaml } from "./support.js";

interface Service {
  build?: { context: string; dockerfile: string };
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  command?: string[];
  read_only?: boolean;
  cap_drop?: string[];
}

const COMPOSE_DIR = deploymentPath("compose");
const compose = readYaml(join(COMPOSE_DIR, "compose.yaml"));
const services = at(compose, "services") as Record<string, Service>;
const gateway = services.gateway as Service;
const example = readEnvFile(join(COMPOSE_DIR, "env.example"));

/** `${VAR:?msg}`, `${VAR:-default}`, `${VAR}` in compose.yaml. */
const INTERPOLATION = /\$\{(\w+)(?::([?-])([^}]*))?\}/g;

/** The environment as compose would pass it, with `.env` values standing in for the operator's. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(INTERPOLATION, (_all, name: string, kind?: string, rest?: string) => {
    const set = env[name];
    if (set !== undefined && set !== "") return set;
    if (kind === "?") throw new Error(`${name} is required: ${rest}`);
    return kind === "-" ? (rest ?? "") : "";
  });
}

describe("deployment/compose/compose.yaml", () => {
  it("runs the gateway, Prometheus and Grafana", () => {
    expect(Object.keys(services).sort()).toEqual(["gateway", "grafana", "prometheus"]);
  });

  it("builds the gateway from the Containerfile with the repository as context", () => {
    const context = resolve(COMPOSE_DIR, gateway.build?.context ?? "");
    expect(existsSync(join(context, "package.json"))).toBe(true);
    expect(existsSync(join(context, gateway.build?.dockerfile ?? ""))).toBe(true);
    expect(gateway.ports).toContain("8080:8080");
    expect(gateway.volumes).toContain("gateway-data:/var/lib/edge-gateway");
    expect(gateway.read_only).toBe(true);
    expect(gateway.cap_drop).toEqual(["ALL"]);
  });

  it("mounts only files and directories that exist in the repository", () => {
    const named = Object.keys(at(compose, "volumes") as Record<string, unknown>);
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const [source = ""] = volume.split(":");
        if (named.includes(source)) continue;
        expect(source.startsWith("."), `${name}: ${volume}`).toBe(true);
        expect(existsSync(resolve(COMPOSE_DIR, source)), `${name}: ${volume}`).toBe(true);
      }
    }
  });

  it("points Prometheus at the mounted configuration, which scrapes the gateway service", () => {
    const prometheus = services.prometheus as Service;
    expect(prometheus.command).toContain("--config.file=/etc/prometheus/prometheus.yml");
    expect(prometheus.volumes).toContain("../prometheus:/etc/prometheus:ro");
    const config = readYaml(deploymentPath("prometheus", "prometheus.yml"));
    const port = (gateway.ports?.[0] ?? "").split(":").at(-1);
    expect(at(config, "scrape_configs", 0, "static_configs", 0, "targets")).toEqual([`gateway:${port}`]);
    // Without authentication Prometheus stays on the device.
    expect(prometheus.ports).toEqual(["127.0.0.1:9090:9090"]);
  });

  it("refuses to start without API keys and a Grafana password instead of using defaults", () => {
    expect(gateway.environment?.GATEWAY_API_KEYS).toMatch(/^\$\{GATEWAY_API_KEYS:\?/);
    expect((services.grafana as Service).environment?.GF_SECURITY_ADMIN_PASSWORD).toMatch(
      /^\$\{GRAFANA_ADMIN_PASSWORD:\?/,
    );
    expect(() => interpolate(String(gateway.environment?.GATEWAY_API_KEYS), {})).toThrow(/required/);
  });

  it("passes the gateway an environment its configuration accepts", () => {
    const dotenv = { ...example, GATEWAY_API_KEYS: "k1:default,k2", GRAFANA_ADMIN_PASSWORD: "x" };
    const env = Object.fromEntries(
      Object.entries(gateway.environment ?? {}).map(([name, value]) => [name, interpolate(value, dotenv)]),
    );
    // The image's own ENV comes first.
    const config = loadConfig({
      env: {
        GATEWAY_HOST: "0.0.0.0",
        GATEWAY_PORT: "8080",
        GATEWAY_DATA_DIR: "/var/lib/edge-gateway",
        ...env,
      },
    });
    expect(config.server.host).toBe("0.0.0.0");
    expect(config.auth.envKeys).toBe("k1:default,k2");
    expect(config.cloud.url).toBeUndefined();
  });

  it("documents in env.example exactly the variables compose.yaml reads", () => {
    const used = new Set(
      [...readText(join(COMPOSE_DIR, "compose.yaml")).matchAll(INTERPOLATION)].map((m) => m[1]),
    );
    expect(new Set(Object.keys(example))).toEqual(used);
  });
});
