import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { aggregate, type Catalog, CatalogCache, EMPTY_CATALOG } from "../../host/mcp/catalog.js";
import { QueueStore } from "../../host/queue/index.js";

const catalog = (tools: string[], prompts: string[] = [], resources: string[] = []): Catalog => ({
  ...EMPTY_CATALOG,
  tools: tools.map((name) => ({ name, inputSchema: { type: "object" } })),
  prompts: prompts.map((name) => ({ name })),
  resources: resources.map((uri) => ({ uri, name: uri })),
});

describe("aggregate", () => {
  it("passes names through bare with a single upstream", () => {
    const view = aggregate([
      { config: { name: "only", url: "http://x/mcp" }, catalog: catalog(["a", "b"], ["p"]) },
    ]);
    expect(view.tools.map((t) => t.name)).toEqual(["a", "b"]);
    expect(view.toolRoutes.get("a")).toEqual({ upstream: "only", name: "a" });
    expect(view.promptRoutes.get("p")).toEqual({ upstream: "only", name: "p" });
  });

  it("prefixes tools and prompts with the upstream's name when there are several", () => {
    const view = aggregate([
      { config: { name: "one", url: "http://x/mcp" }, catalog: catalog(["a"], ["p"], ["file:///1"]) },
      { config: { name: "two", command: "srv" }, catalog: catalog(["a"], [], ["file:///1", "file:///2"]) },
    ]);
    expect(view.tools.map((t) => t.name)).toEqual(["one__a", "two__a"]);
    expect(view.toolRoutes.get("two__a")).toEqual({ upstream: "two", name: "a" });
    expect(view.prompts.map((p) => p.name)).toEqual(["one__p"]);
    // A resource URI names its origin: the first upstream that lists it serves it.
    expect(view.resources.map((r) => r.uri)).toEqual(["file:///1", "file:///2"]);
    expect(view.resourceRoutes.get("file:///1")).toBe("one");
  });

  it("applies include, then exclude, per upstream", () => {
    const view = aggregate([
      {
        config: { name: "one", url: "http://x/mcp", include: ["a", "b"], exclude: ["b"] },
        catalog: catalog(["a", "b", "c"]),
      },
      { config: { name: "two", command: "srv", exclude: ["c"] }, catalog: catalog(["a", "b", "c"]) },
    ]);
    expect(view.tools.map((t) => t.name)).toEqual(["one__a", "two__a", "two__b"]);
  });
});

describe("CatalogCache", () => {
  it("keeps the last catalog per upstream in the queue database across reopenings", () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-catalog-"));
    const path = join(dir, "queue.db");
    try {
      new QueueStore(path, { limits: { maxRows: 10, maxBytes: 1_000_000 } }).close();
      const cache = new CatalogCache(path);
      cache.save("tickets", catalog(["create_ticket"]), 1000);
      cache.save("tickets", catalog(["create_ticket", "close_ticket"]), 2000);
      cache.close();
      const reopened = new CatalogCache(path);
      expect(reopened.load("tickets")).toEqual({
        catalog: catalog(["create_ticket", "close_ticket"]),
        updatedAtMs: 2000,
      });
      expect(reopened.load("other")).toBeUndefined();
      reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
