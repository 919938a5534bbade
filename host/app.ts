import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { type RequestIdVariables, requestId } from "hono/request-id";
import type { GatewayConfig } from "./config/index.js";
import type { Core } from "./core/index.js";
import { errorResponse } from "./errors.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics/index.js";

export interface AppDeps {
  config: GatewayConfig;
  logger: Logger;
  metrics: Metrics;
  /** Undefined while the core loads; readiness waits for it. */
  getCore: () => Core | undefined;
  /** True when the data directory exists and takes a durable write right now. */
  checkDataDir: () => Promise<boolean> | boolean;
}

export type AppEnv = { Variables: RequestIdVariables };

export interface ReadyChecks {
  core: boolean;
  dataDir: boolean;
}

/** Builds the HTTP surface. Never listens: `main` serves it, tests call `app.request()`. */
export function createApp({ config, logger, metrics, getCore, checkDataDir }: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(requestId());
  app.use(
    bodyLimit({
      maxSize: config.server.bodyLimitBytes,
      onError: (c) => {
        const { body, status } = errorResponse("payload_too_large");
        return c.json(body, status);
      },
    }),
  );

  // Liveness only: the process answers. Restarting a gateway because a dependency is down would
  // not bring the dependency back, so nothing else is checked here.
  app.get("/health", (c) => {
    c.header("Cache-Control", "no-store");
    return c.json({ status: "ok" });
  });

  app.get("/ready", async (c) => {
    const checks: ReadyChecks = { core: getCore() !== undefined, dataDir: await probe(checkDataDir, logger) };
    c.header("Cache-Control", "no-store");
    if (checks.core && checks.dataDir) return c.json({ status: "ready", checks });
    // Retry-After (RFC 9110 section 10.2.3) tells load balancers and scripts when to ask again.
    c.header("Retry-After", "1");
    return c.json({ status: "not_ready", checks }, 503);
  });

  app.get("/metrics", async (c) => {
    const text = await metrics.registry.metrics();
    return c.body(text, 200, { "Content-Type": metrics.registry.contentType });
  });

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

async function probe(check: () => Promise<boolean> | boolean, logger: Logger): Promise<boolean> {
  try {
    return await check();
  } catch (error) {
    logger.warn({ err: error }, "data directory check failed");
    return false;
  }
}
