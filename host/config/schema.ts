import { z } from "zod";
import { apiKeyConfigSchema } from "../auth/config.js";
import { coreConfigSchema } from "../core/config.js";
import { mcpConfigSchema } from "../mcp/config.js";
import { queueConfigSchema } from "../queue/config.js";
import { modelsConfigSchema } from "./models.js";
import { cloudSchema, localTargetSchema } from "./targets.js";

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
    /** Address to bind. Loopback by default: exposing the gateway to the LAN is an explicit choice. */
    host: z.string().min(1, { error: "expected a host name or address" }).default(DEFAULT_HOST),
    /** 0 asks the kernel for a free port (tests, side-by-side instances). */
    port: z
      .number({ error: PORT_MESSAGE })
      .int({ error: PORT_MESSAGE })
      .min(0, { error: PORT_MESSAGE })
      .max(65_535, { error: PORT_MESSAGE })
      .default(DEFAULT_PORT),
    /** Queue database, caches and other state; relative paths resolve against the working directory. */
    dataDir: z.string().min(1, { error: "expected a directory path" }).default(DEFAULT_DATA_DIR),
    /** Largest request body accepted; larger ones get 413 before they are parsed. */
    bodyLimitBytes: z
      .number({ error: BODY_LIMIT_MESSAGE })
      .int({ error: BODY_LIMIT_MESSAGE })
      .positive({ error: BODY_LIMIT_MESSAGE })
      .default(DEFAULT_BODY_LIMIT_BYTES),
  })
  .strict();

const modelRef = z.string().regex(/^(auto|local|cloud|(local|cloud)\/[A-Za-z0-9._-]+)$/, {
  error: "expected auto, local, cloud, local/<name> or cloud/<name>",
});

export const routingConfigSchema = z
  .object({
    /** A request that contains personal data (e-mail, phone, card, IBAN, IP) never goes to the cloud. */
    piiStaysLocal: z.boolean().default(true),
    /** Priority 0 (background) .. 3 (interactive) when a request gives none (`x-edge-priority`). */
    defaultPriority: z.number().int().min(0).max(3).default(2),
    /** Extra model names clients may send, each mapped to a model id the gateway lists. */
    aliases: z.record(z.string().min(1), modelRef).default({}),
  })
  .strict();

export const authConfigSchema = z
  .object({
    /** `GATEWAY_API_KEYS`: comma-separated `key` or `key:tier`; scopes chat, mcp, queue. */
    envKeys: z.string().optional(),
    /** Keys stored as SHA-256 hashes (see `edge-gateway keys create`). */
    keys: z.array(apiKeyConfigSchema).default([]),
  })
  .strict();

export const logConfigSchema = z
  .object({
    level: z.enum(LOG_LEVELS).default("info"),
  })
  .strict();

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
      .object({ targets: z.array(localTargetSchema).max(16).default([]) })
      .strict()
      .prefault({}),
    routing: routingConfigSchema.prefault({}),
    queue: queueConfigSchema.prefault({}),
    auth: authConfigSchema.prefault({}),
    mcp: mcpConfigSchema.prefault({}),
    /** Origins allowed by CORS; empty (the default) sends no CORS headers at all. */
    cors: z
      .object({ origins: z.array(z.string().min(1)).default([]) })
      .strict()
      .prefault({}),
  })
  .strict();

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type LogLevel = (typeof LOG_LEVELS)[number];
