import { z } from "zod";
import { coreConfigSchema } from "../core/config.js";

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
  })
  .strict();

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type LogLevel = (typeof LOG_LEVELS)[number];
