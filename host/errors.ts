/**
 * The HTTP error catalogue. Every error response the gateway sends comes from here, in OpenAI's
 * `{"error":{"message","type","code"}}` shape so OpenAI client libraries surface the message.
 * `fix` is for the operator documentation, not the response body.
 */
export const ERROR_CATALOGUE = {
  not_found: {
    status: 404,
    type: "invalid_request_error",
    message: "No route for this method and path.",
    fix: "Check the URL against the endpoint list in the README.",
  },
  payload_too_large: {
    status: 413,
    type: "invalid_request_error",
    message: "The request body is larger than the gateway accepts.",
    fix: "Send a smaller body or raise server.bodyLimitBytes.",
  },
  internal_error: {
    status: 500,
    type: "server_error",
    message: "The gateway failed to handle this request.",
    fix: "Look up the request id (X-Request-Id) in the gateway log for the cause.",
  },
} as const satisfies Record<string, { status: number; type: string; message: string; fix: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface ErrorBody {
  error: { message: string; type: string; code: ErrorCode };
}

export type ErrorStatus = (typeof ERROR_CATALOGUE)[ErrorCode]["status"];

export function errorResponse(code: ErrorCode, message?: string): { body: ErrorBody; status: ErrorStatus } {
  const entry = ERROR_CATALOGUE[code];
  return {
    body: { error: { message: message ?? entry.message, type: entry.type, code } },
    status: entry.status,
  };
}
