import { describe, expect, it } from "vitest";
import { ConfigError, type GatewayConfig, loadConfig } from "../../host/config/index.js";

/** A readFile that serves in-memory files and fails like the filesystem for anything else. */
function files(contents: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = contents[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    return text;
  };
}

function configError(load: () => GatewayConfig): ConfigError {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected loadConfig to throw a ConfigError");
}

describe("loadConfig defaults", () => {
  it("parses with no file, no environment and no flags", () => {
    const config = loadConfig({});
    expect(config.server).toEqual({
      host: "127.0.0.1",
      port: 8080,
      dataDir: "./data",
      bodyLimitBytes: 1024 * 1024,
    });
    expect(config.log.level).toBe("info");
    expect(config.core.limiter.capacity).toBe(10_000);
  });

  it("treats an empty YAML file as no settings", () => {
    const config = loadConfig({
      env: { GATEWAY_CONFIG: "/etc/gw.yaml" },
      readFile: files({ "/etc/gw.yaml": "" }),
    });
    expect(config.server.port).toBe(8080);
  });
});

describe("loadConfig precedence", () => {
  const yaml = "server:\n  host: 0.0.0.0\n  port: 7000\n  dataDir: /var/lib/gw\nlog:\n  level: warn\n";
  const readFile = files({ "/etc/gw.yaml": yaml, "/other.yaml": "server:\n  port: 7100\n" });

  it("takes values from the YAML file named by GATEWAY_CONFIG", () => {
    const config = loadConfig({ env: { GATEWAY_CONFIG: "/etc/gw.yaml" }, readFile });
    expect(config.server).toMatchObject({ host: "0.0.0.0", port: 7000, dataDir: "/var/lib/gw" });
    expect(config.log.level).toBe("warn");
  });

  it("lets GATEWAY_* variables override the file", () => {
    const config = loadConfig({
      env: { GATEWAY_CONFIG: "/etc/gw.yaml", GATEWAY_PORT: "7001", GATEWAY_LOG_LEVEL: "debug" },
      readFile,
    });
    expect(config.server.port).toBe(7001);
    expect(config.server.host).toBe("0.0.0.0");
    expect(config.log.level).toBe("debug");
  });

  it("lets flags override both the environment and the file", () => {
    const config = loadConfig({
      argv: ["--port", "7002", "--host=::1", "--data-dir", "/tmp/gw", "--log-level", "error"],
      env: { GATEWAY_CONFIG: "/etc/gw.yaml", GATEWAY_PORT: "7001", GATEWAY_HOST: "10.0.0.1" },
      readFile,
    });
    expect(config.server).toMatchObject({ host: "::1", port: 7002, dataDir: "/tmp/gw" });
    expect(config.log.level).toBe("error");
  });

  it("prefers the --config flag over GATEWAY_CONFIG", () => {
    const config = loadConfig({
      argv: ["--config", "/other.yaml"],
      env: { GATEWAY_CONFIG: "/etc/gw.yaml" },
      readFile,
    });
    expect(config.server.port).toBe(7100);
  });

  it("uses the last of a repeated flag", () => {
    expect(loadConfig({ argv: ["--port", "1", "--port", "2"] }).server.port).toBe(2);
  });

  it("keeps keys from the file that the environment does not touch in the same section", () => {
    const config = loadConfig({
      env: { GATEWAY_CONFIG: "/c.yaml", GATEWAY_CORE__LIMITER__CAPACITY: "50" },
      readFile: files({ "/c.yaml": "core:\n  limiter:\n    idleMs: 1000\n" }),
    });
    expect(config.core.limiter).toMatchObject({ capacity: 50, idleMs: 1000 });
  });
});

describe("loadConfig environment variables", () => {
  it("coerces numeric strings to numbers where the schema wants a number", () => {
    const config = loadConfig({ env: { GATEWAY_PORT: " 9090 ", GATEWAY_SERVER__BODY_LIMIT_BYTES: "2048" } });
    expect(config.server.port).toBe(9090);
    expect(config.server.bodyLimitBytes).toBe(2048);
  });

  it("keeps strings as strings where the schema wants a string", () => {
    expect(loadConfig({ env: { GATEWAY_DATA_DIR: "12345" } }).server.dataDir).toBe("12345");
  });

  it("maps the nested form GATEWAY_A__B__C_D to a.b.cD", () => {
    const config = loadConfig({
      env: {
        GATEWAY_CORE__LIMITER__CAPACITY: "500",
        GATEWAY_CORE__HEALTH__ERROR_HALF_LIFE_MS: "1500",
        GATEWAY_CORE__LIMITER__TIERS__FREE__REQUESTS_PER_MINUTE: "5",
        GATEWAY_LOG__LEVEL: "trace",
      },
    });
    expect(config.core.limiter.capacity).toBe(500);
    expect(config.core.health.errorHalfLifeMs).toBe(1500);
    expect(config.core.limiter.tiers.free).toMatchObject({ requestsPerMinute: 5, tokensPerMinute: 100_000 });
    expect(config.log.level).toBe("trace");
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig({ env: { GATEWAY_PORT: "", GATEWAY_HOST: "" } }).server).toMatchObject({
      host: "127.0.0.1",
      port: 8080,
    });
  });

  it("ignores variables without the GATEWAY_ prefix", () => {
    expect(loadConfig({ env: { PORT: "abc", HOST: "x" } }).server.port).toBe(8080);
  });
});

describe("loadConfig rejects bad values naming the key and the source", () => {
  it("names server.port and GATEWAY_PORT for a non-numeric port", () => {
    const error = configError(() => loadConfig({ env: { GATEWAY_PORT: "abc" } }));
    expect(error.message).toBe(
      'server.port: expected an integer between 0 and 65535 (from GATEWAY_PORT="abc")',
    );
  });

  it("names server.port and the flag for a port out of range", () => {
    const error = configError(() => loadConfig({ argv: ["--port", "70000"] }));
    expect(error.message).toBe('server.port: expected an integer between 0 and 65535 (from --port="70000")');
  });

  it("names server.port and the file for a fractional port in YAML", () => {
    const error = configError(() =>
      loadConfig({
        argv: ["--config", "/c.yaml"],
        readFile: files({ "/c.yaml": "server:\n  port: 80.5\n" }),
      }),
    );
    expect(error.message).toBe("server.port: expected an integer between 0 and 65535 (in /c.yaml)");
  });

  it("names an unknown key in the YAML file and lists the known ones", () => {
    const error = configError(() =>
      loadConfig({
        env: { GATEWAY_CONFIG: "/c.yaml" },
        readFile: files({ "/c.yaml": "server:\n  prot: 8080\n" }),
      }),
    );
    expect(error.issues).toHaveLength(1);
    expect(error.message).toMatch(
      /^server\.prot: unknown key; expected one of host, port, dataDir, bodyLimitBytes/,
    );
    expect(error.message).toContain("(in /c.yaml)");
  });

  it("names an unknown top-level key in the YAML file", () => {
    const error = configError(() =>
      loadConfig({
        env: { GATEWAY_CONFIG: "/c.yaml" },
        readFile: files({ "/c.yaml": "logging:\n  level: info\n" }),
      }),
    );
    expect(error.message).toMatch(/^logging: unknown key/);
  });

  it("names log.level for a level pino does not have", () => {
    const error = configError(() => loadConfig({ env: { GATEWAY_LOG_LEVEL: "loud" } }));
    expect(error.message).toMatch(/^log\.level: expected one of "fatal"\|"error"\|"warn"\|"info"/);
    expect(error.message).toContain('(from GATEWAY_LOG_LEVEL="loud")');
  });

  it("names core.limiter.capacity for a negative capacity", () => {
    const error = configError(() => loadConfig({ env: { GATEWAY_CORE__LIMITER__CAPACITY: "-5" } }));
    expect(error.message).toMatch(/^core\.limiter\.capacity: too small/);
    expect(error.message).toContain('(from GATEWAY_CORE__LIMITER__CAPACITY="-5")');
  });

  it("names an unknown nested key reached through the environment", () => {
    const error = configError(() => loadConfig({ env: { GATEWAY_SERVER__PROT: "1" } }));
    expect(error.message).toMatch(/^server\.prot: unknown key.*\(from GATEWAY_SERVER__PROT="1"\)$/);
  });

  it("rejects an unknown single-level GATEWAY_ variable instead of ignoring a typo", () => {
    const error = configError(() => loadConfig({ env: { GATEWAY_PROT: "8080" } }));
    expect(error.message).toMatch(/^GATEWAY_PROT: unknown environment variable/);
  });

  it("rejects the same key set by both an alias and the nested form", () => {
    const error = configError(() => loadConfig({ env: { GATEWAY_PORT: "1", GATEWAY_SERVER__PORT: "2" } }));
    expect(error.message).toBe("server.port: set by both GATEWAY_PORT and GATEWAY_SERVER__PORT; keep one");
  });

  it("does not let a nested name reach Object.prototype", () => {
    const error = configError(() => loadConfig({ env: { GATEWAY_CORE__CONSTRUCTOR__NAME: "x" } }));
    expect(error.message).toMatch(/^core\.constructor: unknown key/);
    expect(({} as Record<string, unknown>).name).toBeUndefined();
  });

  it("rejects unknown flags, missing flag values and stray arguments", () => {
    const error = configError(() => loadConfig({ argv: ["--prot", "1", "--host"] }));
    expect(error.issues.map((issue) => issue.subject)).toEqual(["--prot", '"1"', "--host"]);
  });

  it("reports a missing config file with the setting that named it", () => {
    const error = configError(() => loadConfig({ argv: ["--config", "/missing.yaml"], readFile: files({}) }));
    expect(error.message).toBe("config file /missing.yaml: not found (from --config)");
  });

  it("reports YAML syntax errors with their position", () => {
    const error = configError(() =>
      loadConfig({
        env: { GATEWAY_CONFIG: "/c.yaml" },
        readFile: files({ "/c.yaml": "server:\n  port: 1\n  port: 2\n" }),
      }),
    );
    expect(error.message).toMatch(/^config file \/c\.yaml: invalid YAML: Map keys must be unique at line 3/);
  });

  it("rejects a YAML file whose top level is not a mapping", () => {
    const error = configError(() =>
      loadConfig({ env: { GATEWAY_CONFIG: "/c.yaml" }, readFile: files({ "/c.yaml": "- 1\n- 2\n" }) }),
    );
    expect(error.message).toBe("config file /c.yaml: expected a mapping of keys at the top level");
  });

  it("lists every problem of one attempt, not only the first", () => {
    const error = configError(() =>
      loadConfig({ env: { GATEWAY_PORT: "abc", GATEWAY_LOG_LEVEL: "loud", GATEWAY_PROT: "1" } }),
    );
    expect(error.issues.map((issue) => issue.subject).sort()).toEqual([
      "GATEWAY_PROT",
      "log.level",
      "server.port",
    ]);
    expect(error.message.split("\n")).toHaveLength(3);
  });
});
