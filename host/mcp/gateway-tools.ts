import type { KeyRecord } from "../auth/index.js";
import type { QueueStore } from "../queue/index.js";
import type { UpstreamState } from "./upstream.js";

/** What a chat completion through the gateway's router came back with. */
export interface ChatAnswer {
  text: string;
  model: string;
  /** The target that answered, e.g. `local/tiny-demo` or `cloud/openai`. */
  target?: string;
  finishReason?: string;
  usage?: Record<string, unknown>;
}

/**
 * A chat completion through the same routing as `POST /v1/chat/completions` (local first, PII
 * stays local, fallback, rate limits for `client`). Throws with the API's error message.
 */
export type ChatFunction = (body: Record<string, unknown>, client?: KeyRecord) => Promise<ChatAnswer>;

export interface GatewayToolDeps {
  client: KeyRecord;
  chat: ChatFunction;
  store?: QueueStore;
  core: unknown;
  upstreams: () => UpstreamState[];
}

/** The gateway's own tools, listed after the upstreams' under names no upstream prefix can take. */
export const GATEWAY_TOOLS = [
  {
    name: "edge_chat",
    title: "Chat with the edge gateway's model",
    description:
      "Ask the gateway's language model. It answers with the device's local model when it can and the cloud model when it must, by the same routing as its OpenAI-compatible API.",
    inputSchema: {
      type: "object",
      properties: {
        prompt: { type: "string", description: "The user's message." },
        system: { type: "string", description: "An optional system prompt." },
        model: {
          type: "string",
          description: "auto (default), local, cloud, or a model id the gateway lists at /v1/models.",
        },
        max_tokens: { type: "integer", minimum: 1, maximum: 4096 },
        temperature: { type: "number", minimum: 0, maximum: 2 },
      },
      required: ["prompt"],
      additionalProperties: false,
    },
  },
  {
    name: "edge_queue_status",
    title: "Edge gateway queue status",
    description:
      "How much work the gateway holds for later delivery (by status), the age of the oldest item, and whether each MCP upstream is reachable.",
    inputSchema: { type: "object", properties: {}, additionalProperties: false },
  },
] as const;

export type GatewayToolName = (typeof GATEWAY_TOOLS)[number]["name"];

function text(value: string, isError = false): Record<string, unknown> {
  return { content: [{ type: "text", text: value }], ...(isError ? { isError: true } : {}) };
}

export async function runGatewayTool(
  name: GatewayToolName,
  args: Record<string, unknown>,
  deps: GatewayToolDeps,
): Promise<Record<string, unknown>> {
  if (name === "edge_queue_status") {
    const stats = deps.store?.stats();
    const status = {
      queue: stats
        ? {
            byStatus: stats.byStatus,
            oldestActiveAgeSeconds:
              stats.oldestActiveAtMs === undefined
                ? null
                : Math.round((Date.now() - stats.oldestActiveAtMs) / 1000),
            activeBytes: stats.activeBytes,
          }
        : null,
      upstreams: deps.upstreams().map((u) => ({ name: u.name, status: u.status })),
    };
    return { ...text(JSON.stringify(status)), structuredContent: status };
  }
  const prompt = args.prompt;
  if (typeof prompt !== "string" || prompt.length === 0)
    return text("edge_chat needs a non-empty 'prompt'.", true);
  const body: Record<string, unknown> = {
    model: typeof args.model === "string" ? args.model : "auto",
    messages: [
      ...(typeof args.system === "string" ? [{ role: "system", content: args.system }] : []),
      { role: "user", content: prompt },
    ],
    ...(typeof args.max_tokens === "number" ? { max_tokens: args.max_tokens } : {}),
    ...(typeof args.temperature === "number" ? { temperature: args.temperature } : {}),
  };
  try {
    const answer = await deps.chat(body, deps.client);
    return {
      ...text(answer.text),
      structuredContent: {
        text: answer.text,
        model: answer.model,
        ...(answer.target ? { target: answer.target } : {}),
        ...(answer.finishReason ? { finish_reason: answer.finishReason } : {}),
      },
    };
  } catch (error) {
    return text(
      `The gateway could not answer: ${error instanceof Error ? error.message : String(error)}`,
      true,
    );
  }
}
