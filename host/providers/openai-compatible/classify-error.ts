import { ProviderError } from "../types.js";
import type { CallScope } from "./call-scope.js";

/** No connection was made: the target is down, unknown or unreachable, or refused our TLS. */
const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EAI_NONAME",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EADDRNOTAVAIL",
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/** The pool was closed under the call: the gateway gave up, not the target. */
const SHUTDOWN_CODES = new Set(["UND_ERR_DESTROYED", "UND_ERR_CLOSED"]);

/**
 * Error codes on `err`, its causes, and the members of an AggregateError (Node's happy-eyeballs
 * connect reports one failure per address that way).
 */
export function errorCodes(err: unknown, depth = 0): string[] {
  if (typeof err !== "object" || err === null || depth > 4) return [];
  const codes: string[] = [];
  const { code, cause, errors } = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === "string") codes.push(code);
  codes.push(...errorCodes(cause, depth + 1));
  if (Array.isArray(errors)) for (const inner of errors) codes.push(...errorCodes(inner, depth + 1));
  return codes;
}

/**
 * Maps whatever an upstream call threw to the ProviderError kinds the policy core understands. The
 * scope is asked first: once the caller or the deadline aborted, undici's own error is only the echo.
 */
export function toProviderError(err: unknown, scope: CallScope, target: string): ProviderError {
  if (err instanceof ProviderError) return err;
  if (scope.abortedBy === "caller") {
    return new ProviderError("aborted", `${target}: call aborted by the caller`, { cause: err });
  }
  if (scope.abortedBy === "deadline") {
    return new ProviderError("timeout", `${target}: no complete answer within the total timeout`, {
      cause: err,
    });
  }
  const codes = errorCodes(err);
  const detail = codes[0] ?? (err instanceof Error ? err.message : String(err));
  if (codes.some((code) => TIMEOUT_CODES.has(code))) {
    return new ProviderError("timeout", `${target}: upstream went silent (${detail})`, { cause: err });
  }
  if (codes.some((code) => CONNECT_CODES.has(code) || code.startsWith("ERR_SSL_"))) {
    return new ProviderError("connect", `${target}: cannot connect (${detail})`, { cause: err });
  }
  if (codes.some((code) => SHUTDOWN_CODES.has(code))) {
    return new ProviderError("aborted", `${target}: provider closed during the call (${detail})`, {
      cause: err,
    });
  }
  return new ProviderError("protocol", `${target}: connection broke or answer malformed (${detail})`, {
    cause: err,
  });
}
