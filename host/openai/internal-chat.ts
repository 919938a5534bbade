import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import type { KeyRecord } from "../auth/index.js";
import type { ChatAnswer, ChatFunction } from "../mcp/index.js";
import { openaiRoutes } from "./routes.js";
import type { OpenAIDeps } from "./serve.js";

/**
 * Chat completions for callers inside the gateway (the MCP tool edge_chat, sampling requests from
 * MCP upstreams): the same routes as `POST /v1/chat/completions`, so the same routing, fallback
 * and PII rule, for an already authenticated client. Never listens.
 */
export function internalChat(deps: OpenAIDeps, fallbackClient: KeyRecord): ChatFunction {
  const app = new Hono<{ Variables: { client: KeyRecord } }>();
  const callers = new Map<string, KeyRecord>();
  app.use(async (c, next) => {
    c.set("client", callers.get(c.req.header("x-internal-call") ?? "") ?? fallbackClient);
    await next();
  });
  app.route("/v1", openaiRoutes(deps) as never);
  return async function chat(body, client): Promise<ChatAnswer> {
    const id = randomUUID();
    callers.set(id, client ?? fallbackClient);
    try {
      const res = await app.request("/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json", "x-internal-call": id },
        body: JSON.stringify({ ...body, stream: false }),
      });
      const json = (await res.json()) as {
        error?: { message?: string };
        model?: string;
        usage?: Record<string, unknown>;
        choices?: { message?: { content?: string | null }; finish_reason?: string }[];
      };
      if (!res.ok) throw new Error(json.error?.message ?? `status ${res.status}`);
      const choice = json.choices?.[0];
      return {
        text: choice?.message?.content ?? "",
        model: json.model ?? String(body.model ?? "auto"),
        target: res.headers.get("x-edge-target") ?? undefined,
        finishReason: choice?.finish_reason,
        usage: json.usage,
      };
    } finally {
      callers.delete(id);
    }
  };
}
