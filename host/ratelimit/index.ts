import type { MiddlewareHandler } from "hono";
import type { Clock } from "../clock.js";
import { AllowResult, type Core, type CoreConfig } from "../core/index.js";
import { sendError } from "../errors.js";
import { requestHeader, setResponseHeader } from "../http/node-request.js";
import type { GatewayMetrics } from "../metrics/index.js";
import type { ClientVariables } from "./client.js";

export type { ClientVariables } from "./client.js";

export interface RateLimitOptions {
  core: Core;
  clock: Clock;
  metrics: GatewayMetrics;
  tiers: CoreConfig["limiter"]["tiers"];
  /** LLM tokens to reserve before the body is read; settled with the real count afterwards. */
  estimateTokens?: (contentLength: number) => number;
}

const LIMIT_LABEL: Record<number, string> = {
  [AllowResult.DenyRequests]: "requests",
  [AllowResult.DenyTokens]: "tokens",
  [AllowResult.DenyCapacity]: "capacity",
};

/** About four bytes of JSON per token: a reservation only, settled once usage is known. */
const defaultEstimate = (contentLength: number) => Math.ceil(contentLength / 4);

/**
 * Per-key admission through the policy core: one request token and an estimate of LLM tokens.
 * Answers carry the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers) for the request
 * bucket; a refusal is 429 with Retry-After. Runs after auth, which sets the client.
 */
export function rateLimit({
  core,
  clock,
  metrics,
  tiers,
  estimateTokens = defaultEstimate,
}: RateLimitOptions): MiddlewareHandler<{
  Variables: ClientVariables;
}> {
  return async function rateLimitMiddleware(c, next) {
    const client = c.get("client");
    const tier = core.tier(client.tier);
    if (tier === undefined) throw new Error(`tier '${client.tier}' of key '${client.id}' is not configured`);
    const estimate = estimateTokens(Number(requestHeader(c, "content-length") ?? 0) || 0);
    const result = core.allow(client.lo, client.hi, tier, estimate, clock.nowMs());
    const tierConfig = tiers[client.tier];
    const limit = tierConfig?.requestBurst ?? tierConfig?.requestsPerMinute ?? 0;
    if (limit > 0) {
      setResponseHeader(c, "RateLimit-Limit", String(limit));
      setResponseHeader(c, "RateLimit-Remaining", String(Math.max(0, Math.floor(core.remaining()))));
      setResponseHeader(c, "RateLimit-Reset", String(Math.ceil(core.resetMs() / 1000)));
    }
    if (result !== AllowResult.Allow) {
      const retryAfterMs = core.retryAfterMs();
      metrics.rateLimitRejections.inc({ tier: client.tier, limit: LIMIT_LABEL[result] ?? "unknown" });
      const what = result === AllowResult.DenyTokens ? "tokens per minute" : "requests per minute";
      return sendError(c, "rate_limit_exceeded", {
        message: `Rate limit reached for ${what} on this API key (tier ${client.tier}); retry in ${Math.ceil(retryAfterMs / 1000)} s.`,
        retryAfterMs,
      });
    }
    c.set("reservedTokens", estimate);
    await next();
  };
}
