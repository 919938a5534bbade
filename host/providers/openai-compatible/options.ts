import type { Endpoint } from "../types.js";

export interface OpenAICompatibleOptions {
  /** Target name as the API shows it, e.g. `cloud/openai` or `local/ollama`. */
  name: string;
  kind: "local" | "cloud";
  /** The API root including `/v1`, e.g. `http://127.0.0.1:11434/v1`; a query string is kept (Azure's `api-version`). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. Local servers usually need none. */
  apiKey?: string;
  /** When set, replaces `body.model` before sending: the upstream's own name for the model. */
  model?: string;
  /** Default: chat completions and embeddings. */
  endpoints?: readonly Endpoint[];
  /** TCP (and TLS) connect. */
  connectTimeoutMs?: number;
  /**
   * Time to the response headers, and also the longest silence allowed between body bytes: a local
   * model on a Pi may think for a long while before the first token, but once it streams, a gap as
   * long as that means it is stuck.
   */
  headersTimeoutMs?: number;
  /** The whole call, headers and body together. */
  totalTimeoutMs?: number;
  /** Probe (GET /models) deadline; short, since the probe only asks whether the link works. */
  probeTimeoutMs?: number;
  /** Keep-alive connections in this provider's pool. */
  maxConnections?: number;
  /** Wall clock in ms, for Retry-After dates. Injected so tests need not wait for real time. */
  now?: () => number;
}

export const DEFAULT_ENDPOINTS: readonly Endpoint[] = ["chat/completions", "embeddings"];

export interface ResolvedOptions {
  name: string;
  kind: "local" | "cloud";
  origin: string;
  /** Base path without a trailing slash, e.g. `/v1`. */
  basePath: string;
  /** `?...` or empty. */
  search: string;
  apiKey: string | undefined;
  model: string | undefined;
  endpoints: readonly Endpoint[];
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  totalTimeoutMs: number;
  probeTimeoutMs: number;
  maxConnections: number;
  now: () => number;
}

export function resolveOptions({
  name,
  kind,
  baseUrl,
  apiKey,
  model,
  endpoints = DEFAULT_ENDPOINTS,
  connectTimeoutMs = 5_000,
  headersTimeoutMs = 60_000,
  totalTimeoutMs = 300_000,
  probeTimeoutMs = 3_000,
  maxConnections = 64,
  now = Date.now,
}: OpenAICompatibleOptions): ResolvedOptions {
  const url = new URL(baseUrl);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`provider ${name}: baseUrl must be http(s), got ${url.protocol}`);
  }
  for (const [key, value] of Object.entries({
    connectTimeoutMs,
    headersTimeoutMs,
    totalTimeoutMs,
    probeTimeoutMs,
    maxConnections,
  })) {
    if (!Number.isFinite(value) || value <= 0) throw new TypeError(`provider ${name}: ${key} must be > 0`);
  }
  return {
    name,
    kind,
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ""),
    search: url.search,
    // An empty key from an unset environment variable must not become `Bearer `.
    apiKey: apiKey || undefined,
    model: model || undefined,
    endpoints,
    connectTimeoutMs,
    headersTimeoutMs,
    totalTimeoutMs,
    probeTimeoutMs,
    maxConnections,
    now,
  };
}
