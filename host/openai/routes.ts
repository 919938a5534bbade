import { Hono } from "hono";
import { CAPABILITIES } from "../config/targets.js";
import { sendError } from "../errors.js";
import { extractFeatures } from "../features/index.js";
import { readJsonBody } from "./read-json.js";
import { type ChatRequest, chatRequestSchema, embeddingsRequestSchema } from "./schemas.js";
import { type OpenAIDeps, type OpenAIEnv, serveLlm } from "./serve.js";

/** Capability bits a chat request needs from its target. */
function chatCapabilities(body: ChatRequest): number {
  let caps = 0;
  if (body.tools && body.tools.length > 0) caps |= CAPABILITIES.tools;
  const format = body.response_format?.type;
  if (format === "json_object" || format === "json_schema") caps |= CAPABILITIES.json;
  const hasImage = body.messages.some(
    (m) =>
      Array.isArray(m.content) && m.content.some((p) => p.type === "image_url" || p.type === "input_image"),
  );
  if (hasImage) caps |= CAPABILITIES.vision;
  return caps;
}

function embeddingText(input: unknown): string {
  if (typeof input === "string") return input;
  if (Array.isArray(input) && input.every((s) => typeof s === "string")) return input.join("\n");
  return "";
}

/** The OpenAI-compatible surface under /v1: chat completions, embeddings and the model list. */
export function openaiRoutes(deps: OpenAIDeps): Hono<OpenAIEnv> {
  const app = new Hono<OpenAIEnv>();

  app.post("/chat/completions", async (c) => {
    const read = await readJsonBody(c, chatRequestSchema, deps.bodyLimitBytes);
    if (!read.ok) return read.response;
    const body = read.value;
    const f = extractFeatures(body);
    return serveLlm(c, deps, {
      endpoint: "chat/completions",
      body,
      model: body.model,
      promptTokens: f.promptTokens,
      maxTokens: f.maxTokens,
      taskClass: f.taskClass,
      capabilities: chatCapabilities(body),
      containsPii: f.pii.found,
      stream: body.stream === true,
    });
  });

  app.post("/embeddings", async (c) => {
    const read = await readJsonBody(c, embeddingsRequestSchema, deps.bodyLimitBytes);
    if (!read.ok) return read.response;
    const body = read.value;
    const text = embeddingText(body.input);
    const f = extractFeatures({ messages: [{ role: "user", content: text }] });
    return serveLlm(c, deps, {
      endpoint: "embeddings",
      body,
      model: body.model,
      promptTokens:
        typeof body.input === "string" || text !== ""
          ? f.promptTokens
          : JSON.stringify(body.input).length / 4,
      maxTokens: 0,
      taskClass: 0,
      capabilities: CAPABILITIES.embeddings,
      containsPii: f.pii.found,
      stream: false,
    });
  });

  app.get("/models", (c) => {
    const created = 0;
    const owned = (id: string) =>
      id.startsWith("cloud") ? "cloud" : id.startsWith("local") ? "local" : "edge-gateway";
    const ids = [
      "auto",
      ...deps.targets.map((t) => t.id),
      ...Object.keys(deps.routing.aliases).filter((a) => a !== "auto"),
    ];
    return c.json({
      object: "list",
      data: [...new Set(ids)].map((id) => ({
        id,
        object: "model",
        created,
        owned_by: owned(deps.routing.aliases[id] ?? id),
      })),
    });
  });

  for (const [path, allow] of [
    ["/chat/completions", "POST"],
    ["/embeddings", "POST"],
    ["/models", "GET, HEAD"],
  ] as const) {
    app.all(path, (c) => {
      // RFC 9110 section 15.5.6: a 405 carries Allow.
      c.header("Allow", allow);
      return sendError(c, "method_not_allowed", {
        message: `${c.req.method} is not allowed on /v1${path}; use ${allow}.`,
      });
    });
  }
  return app;
}
