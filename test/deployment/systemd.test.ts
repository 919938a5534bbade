import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../host/config/index.js";
import { NODE_FLAGS } from "../../host/runtime.js";
import { deploymentPath, readEnvFile, readText, run, skipWithout } from "./support.js";

type Unit = Map<string, Map<string, string[]>>;

/** systemd's unit syntax: sections, `Key=value` lines (a key may repeat), `#`/`;` comments. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1] ?? "", section);
      continue;
    }
    const eq = line.indexOf("=");
    if (section === undefined || eq <= 0) throw new Error(`line ${index + 1}: not Key=value: ${raw}`);
    const key = line.slice(0, eq);
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1)]);
  }
  return unit;
}

function value(unit: Unit, section: string, key: string): string | undefined {
  return unit.get(section)?.get(key)?.at(-1);
}

/** `Environment=A=1` lines as a map. */
function environment(unit: Unit): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of unit.get("Service")?.get("Environment") ?? []) {
    const eq = entry.indexOf("=");
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

const UNIT_PATH = deploymentPath("systemd", "edge-gateway.service");
const DROP_IN_PATH = deploymentPath("jetson", "gpu.conf");
const unit = parseUnit(readText(UNIT_PATH));
const dropIn = parseUnit(readText(DROP_IN_PATH));
const envFile = readEnvFile(deploymentPath("systemd", "edge-gateway.env"));

// Keys newer than the systemd on the machine are reported as unknown and ignored; these two are
// expected on systemd < 254 (the unit explains the fallback). Anything else fails.
const NEWER_KEYS = /Unknown key '(RestartSteps|RestartMaxDelaySec)' in section \[Service\], ignoring\.$/;

function verifyProblems(output: string): string[] {
  return output
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !NEWER_KEYS.test(line));
}

const scratch = mkdtempSync(join(tmpdir(), "gw-systemd-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("deployment/systemd/edge-gateway.service", () => {
  it.skipIf(skipWithout("systemd-analyze"))("passes systemd-analyze verify", () => {
    const res = run("systemd-analyze", ["verify", UNIT_PATH]);
    expect(verifyProblems(res.stderr + res.stdout)).toEqual([]);
    expect(res.status).toBe(0);
  });

  it.skipIf(skipWithout("systemd-analyze"))(
    "passes systemd-analyze verify with the Jetson GPU drop-in",
    () => {
      const dir = join(scratch, "units");
      mkdirSync(join(dir, "edge-gateway.service.d"), { recursive: true });
      copyFileSync(UNIT_PATH, join(dir, "edge-gateway.service"));
      copyFileSync(DROP_IN_PATH, join(dir, "edge-gateway.service.d", "gpu.conf"));
      const res = run("systemd-analyze", ["verify", join(dir, "edge-gateway.service")], {
        env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` },
      });
      expect(verifyProblems(res.stderr + res.stdout)).toEqual([]);
      expect(res.status).toBe(0);
    },
  );

  it("runs the built CLI's serve command from /opt/edge-gateway, with the deployed node flags, as the edge-gateway user", () => {
    const pkg = JSON.parse(readText(join(deploymentPath(), "..", "package.json"))) as {
      bin: Record<string, string>;
    };
    expect(value(unit, "Service", "ExecStart")).toBe(
      `/usr/bin/env node ${NODE_FLAGS.join(" ")} /opt/edge-gateway/${pkg.bin["edge-gateway"]} serve`,
    );
    expect(value(unit, "Service", "User")).toBe("edge-gateway");
    expect(value(unit, "Service", "Group")).toBe("edge-gateway");
    expect(value(unit, "Service", "Type")).toBe("simple");
    expect(value(unit, "Install", "WantedBy")).toBe("multi-user.target");
  });

  it("keeps state in its StateDirectory and reads secrets from an EnvironmentFile", () => {
    expect(value(unit, "Service", "StateDirectory")).toBe("edge-gateway");
    expect(environment(unit).GATEWAY_DATA_DIR).toBe("/var/lib/edge-gateway");
    expect(value(unit, "Service", "WorkingDirectory")).toBe("/var/lib/edge-gateway");
    expect(value(unit, "Service", "EnvironmentFile")).toBe("/etc/edge-gateway/edge-gateway.env");
    expect(value(unit, "Service", "ConfigurationDirectory")).toBe("edge-gateway");
  });

  it("is sandboxed", () => {
    const expected: Record<string, string> = {
      ProtectSystem: "strict",
      ProtectHome: "yes",
      PrivateTmp: "yes",
      PrivateDevices: "yes",
      NoNewPrivileges: "yes",
      ProtectKernelTunables: "yes",
      ProtectKernelModules: "yes",
      ProtectControlGroups: "yes",
      RestrictNamespaces: "yes",
      RestrictSUIDSGID: "yes",
      LockPersonality: "yes",
      SystemCallArchitectures: "native",
      SystemCallFilter: "@system-service",
      CapabilityBoundingSet: "",
      AmbientCapabilities: "",
    };
    for (const [key, want] of Object.entries(expected)) expect(value(unit, "Service", key), key).toBe(want);
    // V8's JIT writes executable pages: this one would kill node at start.
    expect(value(unit, "Service", "MemoryDenyWriteExecute")).toBeUndefined();
    expect(value(unit, "Service", "MemoryMax")).toMatch(/^\d+(%|[KMG])$/);
  });

  it("restarts on failure with backoff, but not after a configuration error (exit 2)", () => {
    expect(value(unit, "Service", "Restart")).toBe("on-failure");
    expect(value(unit, "Service", "RestartSec")).toMatch(/^\d+s$/);
    expect(Number(value(unit, "Service", "RestartSteps"))).toBeGreaterThan(0);
    expect(value(unit, "Service", "RestartMaxDelaySec")).toMatch(/^\d+(s|min)$/);
    expect(value(unit, "Service", "RestartPreventExitStatus")).toBe("2");
    expect(value(unit, "Unit", "StartLimitIntervalSec")).toBe("0");
    expect(value(unit, "Service", "KillMode")).toBe("mixed");
  });
});

describe("deployment/systemd settings files", () => {
  it("has an environment file and gateway.yaml the gateway's configuration accepts", () => {
    const config = loadConfig({
      env: { ...environment(unit), ...envFile },
      readFile: (path) => {
        expect(path).toBe("/etc/edge-gateway/gateway.yaml");
        return readText(deploymentPath("systemd", "gateway.yaml"));
      },
    });
    expect(config.server.host).toBe("127.0.0.1");
    expect(config.server.port).toBe(8080);
    expect(config.server.dataDir).toBe("/var/lib/edge-gateway");
    expect(config.models.dir).toBe("/var/lib/edge-gateway/models");
    expect(config.auth.envKeys).toBeUndefined();
  });

  it("lists the documented GATEWAY_* variables in the environment file", () => {
    for (const name of [
      "GATEWAY_HOST",
      "GATEWAY_PORT",
      "GATEWAY_API_KEYS",
      "GATEWAY_CLOUD_URL",
      "GATEWAY_CLOUD_API_KEY",
      "GATEWAY_CLOUD_MODEL",
      "GATEWAY_MODELS_DIR",
      "GATEWAY_LOG_LEVEL",
    ]) {
      expect(Object.keys(envFile), name).toContain(name);
    }
  });
});

describe("deployment/jetson/gpu.conf", () => {
  it("gives the GPU devices back and selects the GPU build through a setting the gateway accepts", () => {
    expect(value(dropIn, "Service", "PrivateDevices")).toBe("no");
    expect(value(dropIn, "Service", "SupplementaryGroups")).toBe("video");
    const env = environment(dropIn);
    expect(env.LD_LIBRARY_PATH).toContain("/usr/local/cuda/lib64");
    const gatewayEnv = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith("GATEWAY_")));
    expect(loadConfig({ env: gatewayEnv }).models.gpu).toBe("auto");
  });
});
