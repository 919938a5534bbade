import type { Context } from "hono";
import type { Clock } from "../clock.js";
import type { GatewayConfig } from "../config/index.js";
import type { CloudMonitor } from "../connectivity/cloud-monitor.js";
import { type Core, type CoreConfig, codeName, Decision, Reason, RouteFlag } from "../core/index.js";
import { type ErrorCode, sendError } from "../errors.js";
import { abortOnClientGone, requestHeader, setResponseHeader } from "../http/node-request.js";
import type { Logger } from "../logger.js";
import type { GatewayMetrics } from "../metrics/index.js";
import type { Endpoint } from "../providers/types.js";
import type { ClientVariables } from "../ratelimit/index.js";
import { type Execution, execute } from "../routing/executor.js";
import { resolveSelection } from "../routing/model-ref.js";
import type { Target } from "../routing/targets.js";
import { enqueue, type OfflineDeps, prefersAsync, remember, replay } from "./offline.js";
import { streamResponse } from "./stream.js";
import { type Usage, usageFromJson } from "./usage.js";

export interface OpenAIDeps {
  core: Core;
  clock: Clock;
  metrics: GatewayMetrics;
  logger: Logger;
  targets: readonly Target[];
  routing: GatewayConfig["routing"];
  health: CoreConfig["health"];
  monitor?: CloudMonitor;
  /** Largest request body read. */
  bodyLimitBytes: number;
  /** The durable queue; absent, nothing is ever queued. */
  offline?: OfflineDeps;
}

export type OpenAIEnv = { Variables: ClientVariables & { requestId: string } };

/** What the handler learned from the body, in the core's terms. */
export interface LlmRequest {
  endpoint: Endpoint;
  body: Readonly<Record<string, unknown>>;
  model: string | undefined;
  promptTokens: number;
  maxTokens: number;
  taskClass: number;
  capabilities: number;
  containsPii: boolean;
  stream: boolean;
}

const REJECTIONS: Partial<Record<Reason, ErrorCode>> = {
  [Reason.NoTarget]: "no_target",
  [Reason.PiiNoLocal]: "pii_requires_local",
  [Reason.NoCapableTarget]: "unsupported_capability",
  [Reason.ContextTooLong]: "context_length_exceeded",
  [Reason.InsufficientMemory]: "insufficient_memory",
  [Reason.CloudUnreachable]: "cloud_unreachable",
  [Reason.CircuitOpen]: "target_unavailable",
  [Reason.CoreFault]: "core_fault",
};

const CLOUD_RETRY_MS = 5_000;

function priorityOf(c: Context, fallback: number): number {
  const raw = requestHeader(c, "x-edge-priority");
  const n = raw === undefined ? Number.NaN : Number(raw);
  return Number.isInteger(n) && n >= 0 && n <= 3 ? n : fallback;
}

/**
 * Routes one LLM request through the core and serves it: the decision, the fallback chain, the
 * answer (JSON or SSE), usage accounting and the x-edge-* headers.
 */
export async function serveLlm(c: Context<OpenAIEnv>, deps: OpenAIDeps, req: LlmRequest): Promise<Response> {
  const { core, clock, metrics, targets, routing } = deps;
  const selected = resolveSelection(req.model, requestHeader(c, "x-edge-route"), targets, routing.aliases);
  if (!selected.ok) {
    return selected.field === "model"
      ? sendError(c, "model_not_found", { message: selected.message, param: "model" })
      : sendError(c, "invalid_request", { message: selected.message, param: selected.field });
  }
  const { selection } = selected;
  const client = c.get("client");
  const { offline } = deps;
  if (offline && !req.stream) {
    const replayed = replay(c, offline, client.id);
    if (replayed) return replayed;
  }
  const asked = prefersAsync(c);
  // Streams are never queued: a client holding a stream open wants the answer now.
  const mayQueue =
    offline !== undefined &&
    !req.stream &&
    (asked || client.asyncWhenOffline || offline.config.asyncWhenOffline);
  let flags = RouteFlag.AllowCloud | selection.sideFlags;
  if (req.containsPii && routing.piiStaysLocal) flags |= RouteFlag.ContainsPii;
  if (req.stream) flags |= RouteFlag.Stream;
  if (mayQueue) flags |= RouteFlag.AllowQueue;
  const priority = priorityOf(c, routing.defaultPriority);
  const queueFor = (target: Target | undefined) =>
    offline && target
      ? enqueue(
          c,
          offline,
          {
            kind: req.endpoint === "embeddings" ? "embeddings" : "chat",
            endpoint: req.endpoint,
            body: req.body,
            priority,
            clientId: client.id,
          },
          target,
        )
      : undefined;
  const cloudTarget =
    selection.target?.kind === "cloud" ? selection.target : targets.find((t) => t.kind === "cloud");
  const packed = core.routePacked(
    {
      promptTokens: req.promptTokens,
      maxTokens: req.maxTokens,
      taskClass: req.taskClass,
      priority,
      flags,
      capabilities: req.capabilities,
    },
    clock.nowMs(),
  );
  const decision = (packed & 0xff) as Decision;
  let reason = ((packed >>> 8) & 0xff) as Reason;
  let candidates: Target[] = [];
  for (let i = 0; i < ((packed >>> 16) & 0xff); i++) {
    const t = targets[core.candidate(i)];
    if (t && (!selection.target || t === selection.target)) candidates.push(t);
  }
  if (
    selection.target &&
    candidates.length === 0 &&
    (decision === Decision.Local || decision === Decision.Cloud)
  ) {
    // The side can be served, but not by the target the client named.
    reason = Reason.CircuitOpen;
  }
  const reasonName = codeName(Reason, reason);
  setResponseHeader(c, "x-edge-route-reason", reasonName);
  if (
    decision === Decision.Queue ||
    (asked && mayQueue && decision === Decision.Cloud && candidates[0]?.kind === "cloud")
  ) {
    metrics.routeDecisions.inc({ target: "queue", reason: reasonName });
    const queued = await queueFor(decision === Decision.Queue ? cloudTarget : candidates[0]);
    if (queued) return queued;
  }
  if (candidates.length === 0 || decision === Decision.Queue || decision === Decision.Reject) {
    metrics.routeDecisions.inc({
      target: decision === Decision.Queue ? "queue" : "reject",
      reason: reasonName,
    });
    const code = REJECTIONS[reason] ?? "no_target";
    const retryAfterMs =
      code === "cloud_unreachable"
        ? CLOUD_RETRY_MS
        : code === "target_unavailable"
          ? deps.health.openMs
          : undefined;
    return sendError(c, code, { retryAfterMs });
  }
  if (candidates.length > 0 && selection.target) candidates = [selection.target];
  metrics.routeDecisions.inc({ target: candidates[0]?.id ?? "none", reason: reasonName });

  const controller = abortOnClientGone(c);

  const result: Execution = await execute(deps, {
    endpoint: req.endpoint,
    body: req.body,
    candidates,
    stream: req.stream,
    signal: controller.signal,
    requestId: c.get("requestId"),
  });
  const settle = (usage: Usage | undefined, target: string) => {
    if (!usage) return;
    metrics.tokens.inc({ target, direction: "in" }, usage.promptTokens);
    metrics.tokens.inc({ target, direction: "out" }, usage.completionTokens);
    const actual = usage.promptTokens + usage.completionTokens;
    core.settle(client.lo, client.hi, actual - (c.get("reservedTokens") ?? 0), clock.nowMs());
  };

  switch (result.kind) {
    case "json": {
      setResponseHeader(c, "x-edge-target", result.target.id);
      settle(usageFromJson(result.bytes), result.target.id);
      const contentType = result.headers["content-type"] ?? "application/json";
      remember(c, offline, client.id, {
        status: result.status,
        contentType,
        body: result.bytes,
        target: result.target.id,
      });
      return c.body(result.bytes as Uint8Array<ArrayBuffer>, result.status as 200, {
        "content-type": result.headers["content-type"] ?? "application/json",
      });
    }
    case "stream":
      setResponseHeader(c, "x-edge-target", result.target.id);
      return streamResponse(c, result, controller, (usage) => settle(usage, result.target.id));
    case "refused":
      setResponseHeader(c, "x-edge-target", result.target.id);
      remember(c, offline, client.id, {
        status: result.status,
        contentType: "application/json",
        body: Buffer.from(result.body),
        target: result.target.id,
      });
      return c.body(result.body, result.status as 400, { "content-type": "application/json" });
    case "failed": {
      const e = result.error;
      c.header("x-edge-targets-tried", result.tried.join(","));
      if (e?.kind === "timeout") return sendError(c, "upstream_timeout");
      if (e?.kind === "connect" && candidates.every((t) => t.kind === "cloud")) {
        // The cloud went away between the decision and the call: queue if the client allows it.
        const queued = mayQueue ? await queueFor(candidates.find((t) => t.kind === "cloud")) : undefined;
        return queued ?? sendError(c, "cloud_unreachable", { retryAfterMs: CLOUD_RETRY_MS });
      }
      const status = e?.details.status;
      // Nothing tried (every circuit refused), or the last target said "busy, later": unavailable.
      if (result.tried.length === 0 || status === 503 || status === 429) {
        return sendError(c, "target_unavailable", {
          retryAfterMs: e?.details.retryAfterMs ?? deps.health.openMs,
        });
      }
      return sendError(c, "upstream_error", {
        message: `Every target that could serve the request failed (tried ${result.tried.join(", ")}); last: ${
          e ? `${e.kind}${status ? ` ${status}` : ""}` : "none"
        }.`,
        retryAfterMs: e?.details.retryAfterMs,
      });
    }
  }
}
