import { z } from "zod";
import { runnerHttpError } from "../../runner/errors.js";
import type { GenerateRequest, RunnerFormat, RunnerMessage } from "../../runner/protocol.js";
import type { ProviderError } from "../types.js";

/** Sampling used when a request leaves a field out (the manifest's recommendation for the model). */
export interface SamplingDefaults {
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Completion tokens when the request names no max_tokens; the context's room when absent. */
  maxTokens?: number;
}

const textPart = z.looseObject({ type: z.literal("text"), text: z.string() });
const part = z.looseObject({ type: z.string() });

const message = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: z.union([z.string(), z.array(part), z.null()]).optional(),
});

const jsonObject = z.record(z.string(), z.unknown());

const chatBody = z.looseObject({
  model: z.string().optional(),
  messages: z.array(message).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  /** llama-server's extension; OpenAI has none. */
  top_k: z.number().int().min(0).nullish(),
  n: z.literal(1, { error: "this local model returns one choice (n = 1)" }).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish(),
  logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullish(),
  response_format: z
    .discriminatedUnion("type", [
      z.looseObject({ type: z.literal("text") }),
      z.looseObject({ type: z.literal("json_object") }),
      z.looseObject({
        type: z.literal("json_schema"),
        json_schema: z.looseObject({ name: z.string().optional(), schema: jsonObject.optional() }),
      }),
    ])
    .nullish(),
  tools: z.array(z.unknown()).nullish(),
  tool_choice: z.unknown().optional(),
});

export interface ChatCall {
  request: GenerateRequest;
  stream: boolean;
  includeUsage: boolean;
  /** Echoed in the answer's `model` field. */
  model: string | undefined;
}

/** An OpenAI chat body as a runner request; the client's mistakes become a 400 with OpenAI's error body. */
export function toChatCall(body: Readonly<Record<string, unknown>>, defaults: SamplingDefaults): ChatCall {
  const parsed = chatBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue?.path.map(String).join(".") || "body";
    throw invalid(`Invalid value for '${param}': ${issue?.message ?? "invalid"}.`);
  }
  const b = parsed.data;
  if (b.tools && b.tools.length > 0 && b.tool_choice !== "none") {
    throw invalid("This local model does not call tools; send the request to a target with tool support.");
  }
  const request: GenerateRequest = { messages: b.messages.map(toRunnerMessage) };
  const maxTokens = b.max_completion_tokens ?? b.max_tokens ?? defaults.maxTokens;
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  const temperature = b.temperature ?? defaults.temperature;
  if (temperature !== undefined) request.temperature = temperature;
  const topP = b.top_p ?? defaults.topP;
  if (topP !== undefined) request.topP = topP;
  const topK = b.top_k ?? defaults.topK;
  if (topK !== undefined) request.topK = topK;
  if (b.seed != null) request.seed = b.seed;
  if (b.stop != null) request.stop = typeof b.stop === "string" ? [b.stop] : b.stop;
  if (b.logit_bias != null) request.logitBias = b.logit_bias;
  const format = toFormat(b.response_format);
  if (format) request.format = format;
  return {
    request,
    stream: b.stream === true,
    includeUsage: b.stream_options?.include_usage === true,
    model: b.model,
  };
}

function toRunnerMessage(m: z.infer<typeof message>): RunnerMessage {
  const content = textOf(m.content);
  switch (m.role) {
    case "system":
    case "developer":
      return { role: "system", content };
    case "assistant":
      return { role: "assistant", content };
    case "user":
      return { role: "user", content };
    default:
      // A tool's result is read by the model as user text: its chat template has no tool turns.
      return { role: "user", content: `Tool result:\n${content}` };
  }
}

function textOf(content: z.infer<typeof message>["content"]): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content
    .map((p) => {
      const text = textPart.safeParse(p);
      if (!text.success)
        throw invalid(`This local model reads text only; '${p.type}' content is not supported.`);
      return text.data.text;
    })
    .join("\n");
}

function toFormat(format: z.infer<typeof chatBody>["response_format"]): RunnerFormat | undefined {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "json" };
  const schema = format.json_schema.schema;
  return schema === undefined ? { type: "json" } : { type: "json_schema", schema };
}

function invalid(message: string): ProviderError {
  return runnerHttpError(400, message, "invalid_request");
}
