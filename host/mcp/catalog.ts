import Database from "better-sqlite3";
import type { UpstreamConfig } from "./config.js";

type Entry = Record<string, unknown>;

/** What one upstream offers, as its list methods returned it (upstream names, unfiltered). */
export interface Catalog {
  tools: Entry[];
  resources: Entry[];
  resourceTemplates: Entry[];
  prompts: Entry[];
  capabilities: { completions: boolean; subscribe: boolean; logging: boolean };
}

export const EMPTY_CATALOG: Catalog = Object.freeze({
  tools: [],
  resources: [],
  resourceTemplates: [],
  prompts: [],
  capabilities: { completions: false, subscribe: false, logging: false },
});

/** Separates the upstream's name from the tool's or prompt's when several upstreams are aggregated. */
export const PREFIX_SEPARATOR = "__";

/** Where a name the client sees leads: the upstream and the name it has there. */
export interface Route {
  upstream: string;
  name: string;
}

/** The aggregated view the gateway serves: names as clients see them, each routed to its upstream. */
export interface Aggregate {
  tools: Entry[];
  prompts: Entry[];
  resources: Entry[];
  resourceTemplates: Entry[];
  toolRoutes: Map<string, Route>;
  promptRoutes: Map<string, Route>;
  /** Resource URI -> upstream (first upstream wins a clash). */
  resourceRoutes: Map<string, string>;
  /** Upstreams with resource templates, in configuration order, for URIs no list names. */
  templateUpstreams: { upstream: string; uriTemplate: string }[];
}

/** Whether an upstream's entry passes its include/exclude lists. */
export function offered(config: Pick<UpstreamConfig, "include" | "exclude">, name: string): boolean {
  if (config.exclude?.includes(name)) return false;
  return config.include === undefined || config.include.includes(name);
}

/**
 * Builds the aggregated view. With one upstream names pass through bare; with several each tool
 * and prompt is `upstream__name`. Resources keep their URIs (a URI already names its origin).
 */
export function aggregate(
  upstreams: readonly { config: UpstreamConfig; catalog: Catalog }[],
  bare = upstreams.length === 1,
): Aggregate {
  const out: Aggregate = {
    tools: [],
    prompts: [],
    resources: [],
    resourceTemplates: [],
    toolRoutes: new Map(),
    promptRoutes: new Map(),
    resourceRoutes: new Map(),
    templateUpstreams: [],
  };
  for (const { config, catalog } of upstreams) {
    const exposed = (name: string) => (bare ? name : `${config.name}${PREFIX_SEPARATOR}${name}`);
    for (const tool of catalog.tools) {
      const name = String(tool.name);
      if (!offered(config, name) || out.toolRoutes.has(exposed(name))) continue;
      out.toolRoutes.set(exposed(name), { upstream: config.name, name });
      out.tools.push({ ...tool, name: exposed(name) });
    }
    for (const prompt of catalog.prompts) {
      const name = String(prompt.name);
      if (!offered(config, name) || out.promptRoutes.has(exposed(name))) continue;
      out.promptRoutes.set(exposed(name), { upstream: config.name, name });
      out.prompts.push({ ...prompt, name: exposed(name) });
    }
    for (const resource of catalog.resources) {
      const uri = String(resource.uri);
      if (!offered(config, String(resource.name ?? uri)) || out.resourceRoutes.has(uri)) continue;
      out.resourceRoutes.set(uri, config.name);
      out.resources.push(resource);
    }
    for (const template of catalog.resourceTemplates) {
      if (!offered(config, String(template.name ?? template.uriTemplate))) continue;
      out.templateUpstreams.push({ upstream: config.name, uriTemplate: String(template.uriTemplate) });
      out.resourceTemplates.push(template);
    }
  }
  return out;
}

/**
 * The last catalog each upstream gave, kept in the data directory's queue database so the
 * aggregated lists are served during an outage and right after a restart.
 */
export class CatalogCache {
  private readonly db: Database.Database;
  private readonly put: Database.Statement;
  private readonly get: Database.Statement;

  /** Opens the queue database, whose migrations (host/queue/migrations.ts) created the table. */
  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma("busy_timeout = 5000");
    this.put = this.db.prepare(
      `INSERT INTO mcp_catalog (upstream, catalog, updated_at_ms) VALUES (?, ?, ?)
       ON CONFLICT (upstream) DO UPDATE SET catalog = excluded.catalog, updated_at_ms = excluded.updated_at_ms`,
    );
    this.get = this.db.prepare("SELECT catalog, updated_at_ms FROM mcp_catalog WHERE upstream = ?");
  }

  save(upstream: string, catalog: Catalog, now = Date.now()): void {
    this.put.run(upstream, JSON.stringify(catalog), now);
  }

  load(upstream: string): { catalog: Catalog; updatedAtMs: number } | undefined {
    const row = this.get.get(upstream) as { catalog: string; updated_at_ms: number } | undefined;
    if (!row) return undefined;
    try {
      return {
        catalog: { ...EMPTY_CATALOG, ...(JSON.parse(row.catalog) as Catalog) },
        updatedAtMs: row.updated_at_ms,
      };
    } catch {
      return undefined;
    }
  }

  close(): void {
    this.db.close();
  }
}
