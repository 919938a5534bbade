import type { Context } from "hono";
import type { z } from "zod";
import { sendError } from "../errors.js";
import { readBody, requestHeader } from "../http/node-request.js";
import { firstIssue } from "./schemas.js";

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
/** No OpenAI request nests anywhere near this deep; much deeper would overflow the stack when re-serialised. */
const MAX_DEPTH = 64;
// JSON is UTF-8 (RFC 8259 section 8.1); a lenient decoder would forward a prompt the client never wrote.
const utf8 = new TextDecoder("utf-8", { fatal: true });

function depthExceeds(value: unknown, limit: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (limit === 0) return true;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    if (depthExceeds(child, limit - 1)) return true;
  }
  return false;
}

/**
 * Reads and validates a JSON body, or answers the client with the matching catalogue error:
 * 415 for another content type, 400 for bad JSON or a schema violation naming the field.
 */
export async function readJsonBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  limitBytes: number,
): Promise<{ ok: true; value: z.infer<S> } | { ok: false; response: Response }> {
  const type = requestHeader(c, "content-type") ?? "";
  if (!JSON_TYPE.test(type)) {
    return { ok: false, response: sendError(c, "unsupported_media_type") };
  }
  const body = await readBody(c, limitBytes);
  if (body === "too_large") return { ok: false, response: sendError(c, "payload_too_large") };
  let raw: unknown;
  try {
    raw = JSON.parse(utf8.decode(body));
  } catch {
    return { ok: false, response: sendError(c, "invalid_json") };
  }
  if (depthExceeds(raw, MAX_DEPTH)) {
    return {
      ok: false,
      response: sendError(c, "invalid_request", {
        message: `The body nests deeper than ${MAX_DEPTH} levels.`,
        param: "body",
      }),
    };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      response: sendError(c, "invalid_request", {
        message: "The body must be a JSON object.",
        param: "body",
      }),
    };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const { message, param } = firstIssue(parsed.error);
    return { ok: false, response: sendError(c, "invalid_request", { message, param }) };
  }
  return { ok: true, value: parsed.data };
}
