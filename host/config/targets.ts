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

const timeouts = {
  /** TCP/TLS connect. */
  connectTimeoutMs: z.number().int().positive().default(5_000),
  /** Until the response headers (first byte); a local model may think for a while. */
  firstByteTimeoutMs: z.number().int().positive().default(60_000),
  /** Whole request, streaming included. */
  totalTimeoutMs: z.number().int().positive().default(300_000),
};

/** A local OpenAI-compatible model server (Ollama, llama-server, vLLM) the gateway prefers. */
export const localTargetSchema = z
  .object({
    name,
    url: baseUrl,
    apiKey: z.string().min(1).optional(),
    /** The upstream's model name; defaults to `name`. */
    model: z.string().min(1).optional(),
    contextTokens: z.number().int().positive().default(8_192),
    maxInflight: z.number().int().min(0).default(4),
    taskClasses: z.array(z.enum(TASK_CLASSES)).default([...TASK_CLASSES]),
    capabilities: z
      .array(z.enum(Object.keys(CAPABILITIES) as [Capability, ...Capability[]]))
      .default(["json"]),
    ...timeouts,
  })
  .strict();

export const cloudSchema = z
  .object({
    /** OpenAI-compatible base URL ending in /v1. No URL: no cloud target. */
    url: baseUrl.optional(),
    apiKey: z.string().min(1).optional(),
    name: name.default("cloud"),
    /** The cloud model that serves `auto` and `cloud/<name>` requests. */
    model: z.string().min(1).default("gpt-4o-mini"),
    contextTokens: z.number().int().positive().default(128_000),
    maxInflight: z.number().int().min(0).default(64),
    capabilities: z
      .array(z.enum(Object.keys(CAPABILITIES) as [Capability, ...Capability[]]))
      .default(["tools", "json", "vision", "embeddings"]),
    /** Model for /v1/embeddings when the cloud serves them. */
    embeddingModel: z.string().min(1).default("text-embedding-3-small"),
    /** Reachability probe while the cloud is up; doubles from probeMinMs up to probeMaxMs while down. */
    probeIntervalMs: z.number().int().positive().default(15_000),
    probeMinMs: z.number().int().positive().default(1_000),
    probeMaxMs: z.number().int().positive().default(60_000),
    /** Consecutive connect failures or timeouts on real requests that mark the cloud unreachable. */
    passiveFailures: z.number().int().min(1).default(3),
    ...timeouts,
  })
  .strict();

export type LocalTargetConfig = z.infer<typeof localTargetSchema>;
export type CloudConfig = z.infer<typeof cloudSchema>;
