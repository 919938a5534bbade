import { Hono, type MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { RequestIdVariables } from "hono/request-id";
import { routePath } from "hono/route";
import { authMiddleware, type KeyRecord, type Keyring } from "./auth/index.js";
import type { GatewayConfig } from "./config/index.js";
import type { Core } from "./core/index.js";
import { errorResponse } from "./errors.js";
import { hasNodeResponse, requestHeader, responseHeader, setResponseHeader } from "./http/node-request.js";
import { assignRequestId } from "./http/request-id.js";
import type { Logger } from "./logger.js";
import type { McpGateway } from "./mcp/gateway.js";
import { mcpHandler, mcpOriginGuard } from "./mcp/route.js";
import type { Metrics } from "./metrics/index.js";
import { type OpenAIDeps, openaiRoutes } from "./openai/index.js";
import { queueRoutes } from "./queue/index.js";
import { rateLimit } from "./ratelimit/index.js";
import { type StatusSnapshot, statusPage } from "./status/route.js";

export interface AppDeps {
  config: GatewayConfig;
  logger: Logger;
  metrics: Metrics;
  /** Undefined while the core loads; readiness waits for it. */
  getCore: () => Core | undefined;
  /** True when the data directory exists and takes a durable write right now. */
  checkDataDir: () => Promise<boolean> | boolean;
  /** The OpenAI-compatible API; absent, only health, readiness and metrics are served. */
  api?: ApiDeps;
  /** Loads (once) the MCP endpoint's gateway; absent, `/mcp` is not served. */
  mcp?: () => Promise<McpGateway>;
  /** True when the server binds a loopback address (decides the default Host allow-list of /mcp). */
  loopbackBind?: boolean;
  /** What the status page at `/` shows; absent, `/` is not served. */
  status?: () => StatusSnapshot;
  /** Extra facts for the /ready body (cloud reachability, targets); never affects the status. */
  readyDetails?: () => Record<string, unknown>;
}

export interface ApiDeps extends OpenAIDeps {
  keyring: Keyring;
  /** The client used when no key is configured (the gateway then binds loopback only). */
  anonymous: KeyRecord;
}

export type AppEnv = { Variables: RequestIdVariables };

export interface ReadyChecks {
  core: boolean;
  dataDir: boolean;
}

/** Builds the HTTP surface. Never listens: `main` serves it, tests call `app.request()`. */
export function createApp({
  config,
  logger,
  metrics,
  getCore,
  checkDataDir,
  api,
  mcp,
  loopbackBind = true,
  status,
  readyDetails,
}: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(frame(metrics, logger));
  if (config.cors.origins.length > 0)
    app.use(cors({ origin: config.cors.origins, exposeHeaders: EXPOSED_HEADERS }));
  app.use(contentLengthLimit(config.server.bodyLimitBytes));

  // Liveness only: the process answers. Restarting a gateway because a dependency is down would
  // not bring the dependency back, so nothing else is checked here.
  app.get("/health", (c) => {
    c.header("Cache-Control", "no-store");
    return c.json({ status: "ok" });
  });

  app.get("/ready", async (c) => {
    const checks: ReadyChecks = { core: getCore() !== undefined, dataDir: await probe(checkDataDir, logger) };
    c.header("Cache-Control", "no-store");
    const details = readyDetails?.() ?? {};
    if (checks.core && checks.dataDir) return c.json({ status: "ready", checks, ...details });
    // Retry-After (RFC 9110 section 10.2.3) tells load balancers and scripts when to ask again.
    c.header("Retry-After", "1");
    return c.json({ status: "not_ready", checks, ...details }, 503);
  });

  app.get("/metrics", async (c) => {
    const text = await metrics.registry.metrics();
    return c.body(text, 200, { "Content-Type": metrics.registry.contentType });
  });

  if (api && status) app.get("/", statusPage(api.keyring, status));

  if (api && mcp) {
    const anonymous = api.keyring.size === 0 ? api.anonymous : undefined;
    app.use("/mcp", mcpOriginGuard(config.mcp, loopbackBind));
    app.use("/mcp", authMiddleware({ keyring: api.keyring, scope: "mcp", anonymous }) as MiddlewareHandler);
    app.use(
      "/mcp",
      rateLimit({
        core: api.core,
        clock: api.clock,
        metrics: api.metrics,
        tiers: config.core.limiter.tiers,
      }) as MiddlewareHandler,
    );
    app.all("/mcp", mcpHandler(mcp, config.server.bodyLimitBytes) as never);
  }

  if (api) {
    const anonymous = api.keyring.size === 0 ? api.anonymous : undefined;
    const chatAuth = authMiddleware({ keyring: api.keyring, scope: "chat", anonymous });
    const queueAuth = authMiddleware({ keyring: api.keyring, scope: "queue", anonymous });
    app.use("/v1/*", function authByPath(c, next) {
      const auth = c.req.path.startsWith("/v1/queue/") ? queueAuth : chatAuth;
      return auth(c as unknown as Parameters<typeof auth>[0], next);
    });
    app.use(
      "/v1/*",
      rateLimit({ core: api.core, clock: api.clock, metrics: api.metrics, tiers: config.core.limiter.tiers }),
    );
    if (api.offline) {
      app.route(
        "/v1/queue",
        queueRoutes({ store: api.offline.store, maxWaitSeconds: api.offline.config.maxWaitSeconds }),
      );
    }
    app.route("/v1", openaiRoutes(api));
  }

  app.notFound((c) => {
    const { body, status } = errorResponse("not_found", `No route for ${c.req.method} ${c.req.path}.`);
    return c.json(body, status);
  });

  app.onError(function onError(error, c) {
    // The cause goes to the log under the request id; the client gets only the id to quote.
    logger.error(
      { err: error, requestId: c.get("requestId"), method: c.req.method, path: c.req.path },
      "request failed",
    );
    const { body, status } = errorResponse("internal_error");
    return c.json(body, status);
  });

  return app;
}

const EXPOSED_HEADERS = [
  "x-request-id",
  "x-edge-target",
  "x-edge-route-reason",
  "retry-after",
  "ratelimit-limit",
  "ratelimit-remaining",
  "ratelimit-reset",
];

/**
 * What every request passes through, in one middleware rather than three (each layer costs a
 * closure and a promise per request): the request id, then after the handler the security headers,
 * the request metrics and one access-log line, timed to the response headers.
 */
function frame(metrics: Metrics, logger: Logger): MiddlewareHandler<AppEnv> {
  return async function frameRequest(c, next) {
    const started = performance.now();
    assignRequestId(c);
    // On the Node response they are defaults a handler's own value overrides (see setResponseHeader).
    const onNode = hasNodeResponse(c);
    if (onNode) for (const [name, value] of SECURITY_HEADERS) setResponseHeader(c, name, value);
    await next();
    if (!onNode) setSecurityHeaders(c.res.headers);
    const seconds = (performance.now() - started) / 1000;
    // The last matched route is the handler's pattern; a bare wildcard means nothing matched.
    const last = routePath(c, -1);
    const route = c.res.status === 404 && last.endsWith("*") ? "unmatched" : last;
    const { method } = c.req;
    const status = String(c.res.status);
    metrics.gateway.httpRequests.inc({ method, route, status });
    metrics.gateway.httpDuration.observe({ method, route }, seconds);
    if (!logger.isLevelEnabled("info")) return;
    logger.info(
      {
        requestId: c.get("requestId"),
        method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(seconds * 1e4) / 10,
        target: responseHeader(c, "x-edge-target"),
      },
      "request",
    );
  };
}

/** Headers every answer carries. An API has no page to frame, no script to run, no referrer to leak. */
const SECURITY_HEADERS: readonly [string, string][] = [
  ["X-Content-Type-Options", "nosniff"],
  ["X-Frame-Options", "DENY"],
  ["Referrer-Policy", "no-referrer"],
  ["Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"],
  ["Cross-Origin-Resource-Policy", "same-origin"],
];

/**
 * The handful of security headers that matter for a JSON and SSE API, set once per response. Hono's
 * secureHeaders sets a dozen, most for HTML pages, and costs more than the gateway's routing. A
 * handler's own choice wins (the status page allows its inline style).
 */
function setSecurityHeaders(headers: Headers): void {
  for (const [name, value] of SECURITY_HEADERS) if (!headers.has(name)) headers.set(name, value);
}

/**
 * Refuses a declared body over the limit before reading it. A chunked body has no length up front:
 * the handler that reads it stops at the limit (host/http/node-request.ts). Hono's own body-limit
 * reads the web Request's stream, which costs a third of the gateway's CPU per request on Node.
 */
function contentLengthLimit(limitBytes: number): MiddlewareHandler<AppEnv> {
  return async function bodyLimit(c, next) {
    const declared = Number(requestHeader(c, "content-length") ?? 0);
    if (declared > limitBytes) {
      const { body, status } = errorResponse("payload_too_large");
      return c.json(body, status);
    }
    await next();
  };
}

async function probe(check: () => Promise<boolean> | boolean, logger: Logger): Promise<boolean> {
  try {
    return await check();
  } catch (error) {
    logger.warn({ err: error }, "data directory check failed");
    return false;
  }
}
