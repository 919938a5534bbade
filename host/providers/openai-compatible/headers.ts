/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message: they are never
 * passed on. undici also rejects several of them as request headers.
 */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Set by the provider itself (or by undici from the body); a caller's value would be wrong or unsafe. */
const OWNED_BY_PROVIDER = new Set(["host", "content-length", "content-type", "accept", "x-request-id"]);

/** The client's credentials for the gateway must never reach an upstream. */
const CREDENTIALS = new Set(["authorization", "cookie", "x-api-key", "api-key"]);

export interface RequestHeaderInput {
  apiKey: string | undefined;
  requestId: string;
  stream: boolean;
  extra: Readonly<Record<string, string>> | undefined;
}

export function buildRequestHeaders({
  apiKey,
  requestId,
  stream,
  extra,
}: RequestHeaderInput): Record<string, string> {
  const headers: Record<string, string> = {};
  if (extra) {
    for (const [rawName, value] of Object.entries(extra)) {
      const name = rawName.toLowerCase();
      if (HOP_BY_HOP.has(name) || OWNED_BY_PROVIDER.has(name) || CREDENTIALS.has(name)) continue;
      headers[name] = value;
    }
  }
  headers["content-type"] = "application/json";
  headers.accept = stream ? "text/event-stream" : "application/json";
  headers["x-request-id"] = requestId;
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  return headers;
}

/** undici's response headers, lower-cased, repeated values joined, hop-by-hop ones dropped. */
export function responseHeaders(
  raw: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string> {
  // Headers the upstream names in Connection are hop-by-hop too. Usually it names none beyond
  // keep-alive and close, and the shared set does (no set built per answer).
  let dropped: ReadonlySet<string> = HOP_BY_HOP;
  const connection = raw.connection ?? raw.Connection;
  if (connection !== undefined) {
    for (const token of [connection].flat().join(",").split(",")) {
      const name = token.trim().toLowerCase();
      if (!name || dropped.has(name)) continue;
      if (dropped === HOP_BY_HOP) dropped = new Set(HOP_BY_HOP);
      (dropped as Set<string>).add(name);
    }
  }
  const headers: Record<string, string> = {};
  for (const rawName in raw) {
    const value = raw[rawName];
    const name = rawName.toLowerCase();
    if (value === undefined || dropped.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}
