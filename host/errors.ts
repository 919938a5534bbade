import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

interface CatalogueEntry {
  status: ContentfulStatusCode;
  type: string;
  message: string;
  fix: string;
}

/**
 * The HTTP error catalogue. Every error response the gateway sends comes from here, in OpenAI's
 * `{"error":{"message","type","code","param"}}` shape so OpenAI client libraries raise their typed
 * errors with the message. `fix` is for the operator documentation (README's error table, kept in
 * step by test/unit/errors.test.ts), not the response body.
 */
export const ERROR_CATALOGUE = {
  invalid_json: {
    status: 400,
    type: "invalid_request_error",
    message: "The request body is not valid JSON.",
    fix: "Send a JSON object with Content-Type: application/json.",
  },
  invalid_request: {
    status: 400,
    type: "invalid_request_error",
    message: "The request does not match the API schema.",
    fix: "Correct the field named in the message (and in `param`).",
  },
  context_length_exceeded: {
    status: 400,
    type: "invalid_request_error",
    message: "The prompt plus max_tokens is longer than any available model accepts.",
    fix: "Shorten the messages or lower max_tokens, or configure a target with a longer context.",
  },
  unsupported_capability: {
    status: 400,
    type: "invalid_request_error",
    message: "No configured target offers what the request needs (tools, JSON mode, images or embeddings).",
    fix: "Drop the feature from the request or configure a target whose capabilities include it.",
  },
  missing_api_key: {
    status: 401,
    type: "invalid_request_error",
    message: "No API key: send Authorization: Bearer <key>.",
    fix: "Pass the key as a bearer token (the OpenAI SDKs do this with apiKey).",
  },
  invalid_api_key: {
    status: 401,
    type: "invalid_request_error",
    message: "The API key is not valid.",
    fix: "Use a key from GATEWAY_API_KEYS or one whose SHA-256 is under auth.keys.",
  },
  insufficient_scope: {
    status: 403,
    type: "invalid_request_error",
    message: "The API key lacks the scope this endpoint needs.",
    fix: "Give the key the scope (chat, mcp, queue or admin) under auth.keys.",
  },
  not_found: {
    status: 404,
    type: "invalid_request_error",
    message: "No route for this method and path.",
    fix: "Check the URL against the endpoint list in the README.",
  },
  model_not_found: {
    status: 404,
    type: "invalid_request_error",
    message: "The model does not exist on this gateway.",
    fix: "Use auto, local/<name>, cloud/<name> (GET /v1/models lists them) or add an alias under routing.aliases.",
  },
  queue_item_not_found: {
    status: 404,
    type: "invalid_request_error",
    message: "No queued item with this id belongs to this API key.",
    fix: "Use the id (or Location) from the 202 answer, with the key that enqueued it or an admin key.",
  },
  method_not_allowed: {
    status: 405,
    type: "invalid_request_error",
    message: "This endpoint does not accept this method.",
    fix: "Use the method the README lists for the endpoint.",
  },
  queue_item_not_cancellable: {
    status: 409,
    type: "invalid_request_error",
    message: "The item is already being delivered or has finished; it can no longer be cancelled.",
    fix: "Poll GET /v1/queue/{id} for its result.",
  },
  queue_result_pending: {
    status: 409,
    type: "invalid_request_error",
    message: "The item has no result yet.",
    fix: "Poll GET /v1/queue/{id}?wait=30 until its status is done, failed or dead.",
  },
  payload_too_large: {
    status: 413,
    type: "invalid_request_error",
    message: "The request body is larger than the gateway accepts.",
    fix: "Send a smaller body or raise server.bodyLimitBytes.",
  },
  unsupported_media_type: {
    status: 415,
    type: "invalid_request_error",
    message: "The request body must be application/json.",
    fix: "Send Content-Type: application/json.",
  },
  pii_requires_local: {
    status: 422,
    type: "invalid_request_error",
    message:
      "The request contains personal data and no local model can serve it; it is not sent to the cloud.",
    fix: "Remove the personal data, configure a local model, or set routing.piiStaysLocal to false.",
  },
  rate_limit_exceeded: {
    status: 429,
    type: "rate_limit_error",
    message: "Rate limit reached for this API key.",
    fix: "Wait for Retry-After seconds, or raise the tier's limits under core.limiter.tiers.",
  },
  internal_error: {
    status: 500,
    type: "server_error",
    message: "The gateway failed to handle this request.",
    fix: "Look up the request id (X-Request-Id) in the gateway log for the cause.",
  },
  upstream_error: {
    status: 502,
    type: "server_error",
    message: "Every target that could serve the request failed.",
    fix: "Check the targets' logs and /ready; the gateway retried the next target in the fallback order.",
  },
  no_target: {
    status: 503,
    type: "server_error",
    message: "No configured target can serve this request.",
    fix: "Configure a local target or GATEWAY_CLOUD_URL, or drop x-edge-route / the forced model.",
  },
  cloud_unreachable: {
    status: 503,
    type: "server_error",
    message: "The request needs the cloud and the cloud is unreachable.",
    fix: "Retry after Retry-After seconds; /ready and gateway_cloud_reachable show the link state.",
  },
  target_unavailable: {
    status: 503,
    type: "server_error",
    message: "The targets that could serve the request are failing (circuit open).",
    fix: "Retry after Retry-After seconds; gateway_circuit_state shows which target is tripped.",
  },
  queue_full: {
    status: 503,
    type: "server_error",
    message: "The offline queue is full; the request was not accepted.",
    fix: "Wait for the queue to drain (gateway_queue_depth) or raise queue.maxRows / queue.maxBytes.",
  },
  insufficient_memory: {
    status: 503,
    type: "server_error",
    message: "The local model that could serve the request does not fit in free memory.",
    fix: "Free memory, use a smaller model, or allow the cloud.",
  },
  core_fault: {
    status: 503,
    type: "server_error",
    message: "The policy core failed twice in a row; the request was refused rather than guessed.",
    fix: "Report the log lines around the request id; the core was re-instantiated.",
  },
  upstream_timeout: {
    status: 504,
    type: "server_error",
    message: "The target did not answer in time.",
    fix: "Raise the target's firstByteTimeoutMs/totalTimeoutMs or lower max_tokens.",
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface ErrorBody {
  error: { message: string; type: string; code: ErrorCode; param: string | null };
}

export type ErrorStatus = (typeof ERROR_CATALOGUE)[ErrorCode]["status"];

export interface ErrorOptions {
  message?: string;
  /** The request field at fault, as OpenAI's `param`. */
  param?: string;
  /** Sets Retry-After (RFC 9110 section 10.2.3), whole seconds, at least 1. */
  retryAfterMs?: number;
}

export function errorResponse(
  code: ErrorCode,
  message?: string,
  param?: string,
): { body: ErrorBody; status: ErrorStatus } {
  const entry = ERROR_CATALOGUE[code];
  return {
    body: { error: { message: message ?? entry.message, type: entry.type, code, param: param ?? null } },
    status: entry.status,
  };
}

/** Sends a catalogue error on `c`. */
export function sendError(c: Context, code: ErrorCode, opts: ErrorOptions = {}): Response {
  const { body, status } = errorResponse(code, opts.message, opts.param);
  if (opts.retryAfterMs !== undefined)
    c.header("Retry-After", String(Math.max(1, Math.ceil(opts.retryAfterMs / 1000))));
  return c.json(body, status);
}
