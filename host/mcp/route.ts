import type { Context, MiddlewareHandler } from "hono";
import type { KeyRecord } from "../auth/index.js";
import { readBody } from "../http/node-request.js";
import type { McpConfig } from "./config.js";
import type { McpGateway } from "./gateway.js";

/**
 * The MCP SDK is loaded on first use: a gateway whose clients never speak MCP does not carry it
 * (tens of MB of resident memory on a device with a few hundred).
 */
let sdk: Promise<typeof import("@modelcontextprotocol/server")> | undefined;
const loadSdk = () => {
  sdk ??= import("@modelcontextprotocol/server");
  return sdk;
};

/** JSON-RPC 2.0 error codes the transport answers before the SDK sees a message. */
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;

function rpcError(c: Context, status: 400 | 403 | 413, code: number, message: string): Response {
  return c.json({ jsonrpc: "2.0", id: null, error: { code, message } }, status);
}

/**
 * DNS-rebinding protection for `/mcp` (MCP transports, Streamable HTTP security warning): the Host
 * header must name an allowed host and a browser's Origin an allowed origin, else 403. With the
 * gateway on loopback and no lists configured, only loopback names pass; bound beyond loopback
 * (API keys required), any Host passes unless `mcp.allowedHosts` lists some.
 */
export function mcpOriginGuard(config: McpConfig, loopbackBind: boolean): MiddlewareHandler {
  return async function guardOrigin(c, next) {
    const { localhostAllowedHostnames, localhostAllowedOrigins, validateHostHeader, validateOriginHeader } =
      await loadSdk();
    const hosts =
      config.allowedHosts.length > 0 ? config.allowedHosts : loopbackBind ? localhostAllowedHostnames() : [];
    const origins = config.allowedOrigins.length > 0 ? config.allowedOrigins : localhostAllowedOrigins();
    if (hosts.length > 0) {
      const host = validateHostHeader(c.req.header("host"), hosts);
      if (!host.ok) return rpcError(c, 403, INVALID_REQUEST, `Forbidden: ${host.message}`);
    }
    const origin = validateOriginHeader(c.req.header("origin"), origins);
    if (!origin.ok) return rpcError(c, 403, INVALID_REQUEST, `Forbidden: ${origin.message}`);
    await next();
  };
}

/**
 * The `/mcp` handler after auth and rate limiting: reads the body (bounded), answers a parse error
 * or a JSON-RPC batch itself (batches are not part of MCP since 2025-06-18), and hands single
 * messages to the SDK's stateless serving.
 */
export function mcpHandler(load: () => Promise<McpGateway>, bodyLimitBytes: number) {
  return async function serveMcp(c: Context<{ Variables: { client: KeyRecord } }>): Promise<Response> {
    const mcp = await load();
    const client = c.get("client");
    const headers = new Headers(c.req.raw.headers);
    const request = new Request(c.req.url, { method: c.req.method, headers });
    if (c.req.method !== "POST") return mcp.fetch(request, undefined, client);
    const bytes = await readBody(c, bodyLimitBytes);
    if (bytes === "too_large") return rpcError(c, 413, INVALID_REQUEST, "Request body too large");
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString("utf8"));
    } catch {
      return rpcError(c, 400, PARSE_ERROR, "Parse error: the body is not valid JSON");
    }
    if (Array.isArray(parsed))
      return rpcError(c, 400, INVALID_REQUEST, "Invalid Request: JSON-RPC batches are not supported");
    if (parsed === null || typeof parsed !== "object")
      return rpcError(c, 400, INVALID_REQUEST, "Invalid Request: expected a JSON-RPC message object");
    return mcp.fetch(request, parsed, client);
  };
}
