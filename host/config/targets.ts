import { z } from "zod";

export const TASK_CLASSES = ["chat", "code", "math", "reasoning", "creative"] as const;
/** Capability names and the core's capability bits. */
export const CAPABILITIES = { tools: 1, json: 2, vision: 4, embeddings: 8 } as const;
export type Capability = keyof typeof CAPABILITIES;

const baseUrl = z
  .string()
  .url({ error: "expected an http(s) base URL ending in /v1" })
  .refine((u) => /^https?:\/\//.test(u) && /\/v1\/?$/.test(u), {
    error: "expected an http(s) base URL ending in /v1, e.g. https://api.openai.com/v1",
  })
  .transform((u) => u.replace(/\/$/, ""));

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/i, { error: "expected 1-64 letters, digits, '.', '_' or '-'" });

const capabilities = z.array(z.enum(Object.keys(CAPABILITIES) as [Capability, ...Capability[]]));

const timeouts = {
  connectTimeoutMs: z.number().int().positive().default(5_000).describe("TCP and TLS connect."),
  firstByteTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(60_000)
    .describe("Until the response headers (first byte); a model may think for a while."),
  totalTimeoutMs: z.number().int().positive().default(300_000).describe("Whole request, streaming included."),
};

/** A local OpenAI-compatible model server (Ollama, llama-server, vLLM) the gateway prefers. */
export const localTargetSchema = z
  .object({
    name: name.describe(
      "Target id: requests name it as `local/<name>`. 1-64 letters, digits, '.', '_' or '-'.",
    ),
    url: baseUrl.describe("OpenAI-compatible base URL ending in /v1."),
    apiKey: z
      .string()
      .min(1)
      .optional()
      .describe("Sent as `Authorization: Bearer <apiKey>`; local servers usually need none."),
    model: z.string().min(1).optional().describe("The upstream's model name. Unset: `name`."),
    contextTokens: z
      .number()
      .int()
      .positive()
      .default(8_192)
      .describe(
        "Prompt plus completion tokens the model accepts; requests that do not fit are not routed here.",
      ),
    maxInflight: z
      .number()
      .int()
      .min(0)
      .default(4)
      .describe("Concurrent requests before the router counts the target as saturated; 0: no limit."),
    taskClasses: z
      .array(z.enum(TASK_CLASSES))
      .default([...TASK_CLASSES])
      .describe("Task classes the model is good at; others are routed here only with a penalty."),
    capabilities: capabilities
      .default(["json"])
      .describe("What the model supports; add `tools`, `vision` or `embeddings` when it does."),
    ...timeouts,
  })
  .strict();

export const cloudSchema = z
  .object({
    url: baseUrl.optional().describe("OpenAI-compatible base URL ending in /v1. Unset: no cloud target."),
    apiKey: z
      .string()
      .min(1)
      .optional()
      .describe("The gateway's own credential for the cloud; clients' keys are never forwarded."),
    name: name.default("cloud").describe("Target id: requests name it as `cloud/<name>`."),
    model: z
      .string()
      .min(1)
      .default("gpt-4o-mini")
      .describe("The cloud model that serves `auto` and `cloud/<name>` chat requests."),
    contextTokens: z
      .number()
      .int()
      .positive()
      .default(128_000)
      .describe("Prompt plus completion tokens the cloud model accepts."),
    maxInflight: z
      .number()
      .int()
      .min(0)
      .default(64)
      .describe("Concurrent requests before the router counts the cloud as saturated; 0: no limit."),
    capabilities: capabilities
      .default(["tools", "json", "vision", "embeddings"])
      .describe("What the cloud model supports."),
    embeddingModel: z
      .string()
      .min(1)
      .default("text-embedding-3-small")
      .describe("Model for /v1/embeddings when the cloud serves them."),
    probeIntervalMs: z
      .number()
      .int()
      .positive()
      .default(15_000)
      .describe(
        "Reachability probe (GET /models) while the cloud is up; while down it backs off from probeMinMs to probeMaxMs.",
      ),
    probeMinMs: z
      .number()
      .int()
      .positive()
      .default(1_000)
      .describe("First probe interval after the cloud went down; doubles on each failed probe."),
    probeMaxMs: z
      .number()
      .int()
      .positive()
      .default(60_000)
      .describe("Longest probe interval while the cloud is down."),
    passiveFailures: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe("Consecutive connect failures or timeouts on real requests that mark the cloud unreachable."),
    ...timeouts,
  })
  .strict()
  .describe("The OpenAI-compatible cloud endpoint the gateway falls back to.");

export type LocalTargetConfig = z.infer<typeof localTargetSchema>;
export type CloudConfig = z.infer<typeof cloudSchema>;
