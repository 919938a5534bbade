import { z } from "zod";
import { apiKeyConfigSchema } from "../auth/config.js";
import { coreConfigSchema } from "../core/config.js";
import { mcpConfigSchema } from "../mcp/config.js";
import { queueConfigSchema } from "../queue/config.js";
import { modelsConfigSchema } from "./models.js";
import { cloudSchema, localTargetSchema } from "./targets.js";

/*
 * Every field carries its operator-facing text in `.describe()`: docs/configuration.md is generated
 * from it (`npm run docs:config`), and a unit test fails when the two drift apart.
 */

/** pino's level names; "silent" turns logging off. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 8080;
export const DEFAULT_DATA_DIR = "./data";
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

const PORT_MESSAGE = "expected an integer between 0 and 65535";
const BODY_LIMIT_MESSAGE = "expected a positive integer number of bytes";

export const serverConfigSchema = z
  .object({
    host: z
      .string()
      .min(1, { error: "expected a host name or address" })
      .default(DEFAULT_HOST)
      .describe(
        "Address to bind. Loopback by default: exposing the gateway to the LAN is an explicit choice.",
      ),
    port: z
      .number({ error: PORT_MESSAGE })
      .int({ error: PORT_MESSAGE })
      .min(0, { error: PORT_MESSAGE })
      .max(65_535, { error: PORT_MESSAGE })
      .default(DEFAULT_PORT)
      .describe(
        "TCP port. 0 asks the kernel for a free port (tests, side-by-side instances); the port chosen is logged on start.",
      ),
    dataDir: z
      .string()
      .min(1, { error: "expected a directory path" })
      .default(DEFAULT_DATA_DIR)
      .describe(
        "Queue database, caches and other state; created if missing. Relative paths resolve against the working directory.",
      ),
    bodyLimitBytes: z
      .number({ error: BODY_LIMIT_MESSAGE })
      .int({ error: BODY_LIMIT_MESSAGE })
      .positive({ error: BODY_LIMIT_MESSAGE })
      .default(DEFAULT_BODY_LIMIT_BYTES)
      .describe("Largest request body accepted; larger ones get 413 before they are parsed."),
  })
  .strict()
  .describe("Where the gateway listens and keeps its state.");

const modelRef = z.string().regex(/^(auto|local|cloud|(local|cloud)\/[A-Za-z0-9._-]+)$/, {
  error: "expected auto, local, cloud, local/<name> or cloud/<name>",
});

export const routingConfigSchema = z
  .object({
    piiStaysLocal: z
      .boolean()
      .default(true)
      .describe(
        "A request that contains personal data (e-mail addresses, phone numbers, Luhn-valid card numbers, IBANs, IP addresses) never goes to the cloud.",
      ),
    defaultPriority: z
      .number()
      .int()
      .min(0)
      .max(3)
      .default(2)
      .describe(
        "Priority 0 (background) .. 3 (interactive) when a request sends no `x-edge-priority`; higher priorities lean less on the local-first bias.",
      ),
    aliases: z
      .record(z.string().min(1), modelRef)
      .default({})
      .describe(
        "Extra model names clients may send, each mapped to a model id the gateway lists: `auto`, `local`, `cloud`, `local/<name>` or `cloud/<name>`.",
      ),
  })
  .strict()
  .describe("How requests choose between local targets and the cloud.");

export const authConfigSchema = z
  .object({
    envKeys: z
      .string()
      .optional()
      .describe(
        "API keys from the environment: comma-separated `key` or `key:tier`, each with the scopes chat, mcp and queue.",
      ),
    keys: z
      .array(apiKeyConfigSchema)
      .default([])
      .describe("API keys stored as SHA-256 hashes; `edge-gateway keys create` prints an entry."),
  })
  .strict()
  .describe(
    "API keys clients send as `Authorization: Bearer <key>`. With none, every request is served without a key, and the gateway refuses to bind beyond loopback.",
  );

export const logConfigSchema = z
  .object({
    level: z
      .enum(LOG_LEVELS)
      .default("info")
      .describe("Least severe level written (pino's level names); `silent` turns logging off."),
  })
  .strict()
  .describe("Structured JSON logs on stdout.");

/**
 * The whole gateway configuration. Every section is defaulted, so `{}` parses: an operator only
 * writes what differs from the defaults.
 */
export const gatewayConfigSchema = z
  .object({
    server: serverConfigSchema.prefault({}),
    log: logConfigSchema.prefault({}),
    core: coreConfigSchema.prefault({}),
    cloud: cloudSchema.prefault({}),
    models: modelsConfigSchema.prefault({}),
    local: z
      .object({
        targets: z
          .array(localTargetSchema)
          .max(16)
          .default([])
          .describe(
            "Local OpenAI-compatible model servers (Ollama, llama-server, vLLM) the gateway prefers.",
          ),
      })
      .strict()
      .prefault({})
      .describe("Model servers on the device or the LAN, beside the built-in runner."),
    routing: routingConfigSchema.prefault({}),
    queue: queueConfigSchema.prefault({}),
    auth: authConfigSchema.prefault({}),
    mcp: mcpConfigSchema.prefault({}),
    cors: z
      .object({
        origins: z
          .array(z.string().min(1))
          .default([])
          .describe("Origins allowed by CORS; empty (the default) sends no CORS headers at all."),
      })
      .strict()
      .prefault({})
      .describe("Cross-origin requests from browsers."),
  })
  .strict();

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type LogLevel = (typeof LOG_LEVELS)[number];
