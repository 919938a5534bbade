import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { gatewayConfigSchema } from "../../host/config/index.js";
import { configReference, type ReferenceEntry } from "../../host/config/reference.js";
import { renderConfigReference } from "../../host/config/reference-markdown.js";
import { ENV_ALIASES, FLAG_PATHS, readEnv } from "../../host/config/sources.js";

const sections = configReference();
const entries = sections.flatMap((section) => section.entries);

function entryFor(key: string): ReferenceEntry {
  const found = entries.find((entry) => entry.key === key);
  if (found === undefined) throw new Error(`no reference entry for ${key}`);
  return found;
}

/** The value at a dotted path of `value`, for keys outside lists and maps. */
function at(value: unknown, key: string): unknown {
  return key.split(".").reduce<unknown>((node, name) => (node as Record<string, unknown>)[name], value);
}

describe("the configuration reference", () => {
  it("is what docs/configuration.md holds", () => {
    const written = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");
    expect(written, "docs/configuration.md is out of date with the schema: run `npm run docs:config`").toBe(
      renderConfigReference(),
    );
  });

  it("has one section per top-level key, in the schema's order", () => {
    expect(sections.map((section) => section.name)).toEqual([
      "server",
      "log",
      "core",
      "cloud",
      "models",
      "local",
      "routing",
      "queue",
      "auth",
      "mcp",
      "cors",
    ]);
  });

  it("describes every section and every key", () => {
    expect(sections.filter((section) => section.description === "").map((section) => section.name)).toEqual(
      [],
    );
    expect(entries.filter((entry) => entry.description === "").map((entry) => entry.key)).toEqual([]);
  });

  it("gives server.port its default, its alias and its flag", () => {
    expect(entryFor("server.port")).toMatchObject({
      type: "integer 0 to 65535",
      default: { kind: "value", value: 8080 },
      env: "GATEWAY_PORT",
      flag: "--port",
    });
  });

  it("names the nested variable where there is no alias, and none inside lists", () => {
    expect(entryFor("queue.retentionMs")).toMatchObject({
      default: { kind: "value", value: 7 * 24 * 3_600_000 },
      env: "GATEWAY_QUEUE__RETENTION_MS",
    });
    expect(entryFor("core.limiter.tiers.<name>.requestsPerMinute").env).toBe(
      "GATEWAY_CORE__LIMITER__TIERS__<NAME>__REQUESTS_PER_MINUTE",
    );
    expect(entryFor("local.targets[].url").env).toBeUndefined();
  });

  it("documents mcp.upstreams[] with its HTTP and its stdio form", () => {
    expect(entryFor("mcp.upstreams[]").type).toBe("list of (HTTP upstream | stdio upstream)");
    expect(entryFor("mcp.upstreams[].name")).toMatchObject({ default: { kind: "required" } });
    expect(entryFor("mcp.upstreams[].name").variants).toBeUndefined();
    expect(entryFor("mcp.upstreams[].url")).toMatchObject({ type: "URL", variants: ["HTTP upstream"] });
    expect(entryFor("mcp.upstreams[].command").variants).toEqual(["stdio upstream"]);
  });

  it("spells out enums, unions of values and optional keys", () => {
    expect(entryFor("log.level").type).toBe(
      "`fatal` | `error` | `warn` | `info` | `debug` | `trace` | `silent`",
    );
    expect(entryFor("models.loadAtStart")).toMatchObject({
      type: "`all` | `none` | list of string",
      default: { kind: "value", value: "all" },
    });
    expect(entryFor("cloud.url")).toMatchObject({ type: "URL", default: { kind: "unset" } });
  });

  it("shows for every key outside lists and maps the default that parsing {} yields", () => {
    const defaults = gatewayConfigSchema.parse({});
    const plain = entries
      .map((entry) => ({ entry, key: entry.key.replace(/\[\]$/, "") }))
      .filter(({ key }) => !key.includes("[]") && !key.includes("<name>"));
    expect(plain.length).toBeGreaterThan(60);
    for (const { entry, key } of plain) {
      const value = at(defaults, key);
      expect(entry.default, key).toEqual(value === undefined ? { kind: "unset" } : { kind: "value", value });
    }
  });

  it("names only variables the loader reads back as the same key", () => {
    const documented = entries.filter((entry) => entry.env !== undefined);
    expect(documented.length).toBeGreaterThan(60);
    for (const entry of documented) {
      const name = (entry.env as string).replace("<NAME>", "FREE");
      const read = readEnv({ [name]: "1" });
      const key = entry.key.endsWith(".aliases") ? `${entry.key}.<name>` : entry.key;
      expect(read.issues, name).toEqual([]);
      expect(
        read.settings.map((setting) => setting.path.join(".")),
        name,
      ).toEqual([key.replace("<name>", "free")]);
    }
  });

  it("leaves the README naming every short variable and flag", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    for (const name of [...Object.keys(ENV_ALIASES), ...Object.keys(FLAG_PATHS).map((flag) => `--${flag}`)]) {
      expect(readme, name).toContain(`\`${name}\``);
    }
  });
});
