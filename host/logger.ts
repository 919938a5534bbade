import { type DestinationStream, type Logger, pino } from "pino";
import type { LogLevel } from "./config/index.js";

export type { Logger } from "pino";

/**
 * Paths pino blanks before a line is written. Request headers are listed both where a request
 * serializer puts them (`req.headers`) and bare, since handlers may log a headers object directly.
 */
export const REDACT_PATHS: readonly string[] = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
  "headers.authorization",
  "headers.cookie",
  'headers["x-api-key"]',
  'headers["proxy-authorization"]',
  "authorization",
  "apiKey",
  "api_key",
  "*.apiKey",
  "*.api_key",
  "*.*.apiKey",
  "*.*.api_key",
  "envKeys",
  "*.envKeys",
  "*.*.envKeys",
];

export interface CreateLoggerOptions {
  level: LogLevel;
  /** Where lines go; stdout when absent. Tests pass a stream to read the lines back. */
  destination?: DestinationStream;
}

/** JSON lines on stdout, the shape journald, docker and Loki all ingest without configuration. */
export function createLogger({ level, destination }: CreateLoggerOptions): Logger {
  const options = {
    level,
    name: "edge-gateway",
    redact: { paths: [...REDACT_PATHS], censor: "[redacted]" },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
