import type { Context } from "hono";
import type { z } from "zod";
import { sendError } from "../errors.js";
import { firstIssue } from "./schemas.js";

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Reads and validates a JSON body, or answers the client with the matching catalogue error:
 * 415 for another content type, 400 for bad JSON or a schema violation naming the field.
 */
export async function readJsonBody<S extends z.ZodType>(
  c: Context,
  schema: S,
): Promise<{ ok: true; value: z.infer<S> } | { ok: false; response: Response }> {
  const type = c.req.header("content-type") ?? "";
  if (!JSON_TYPE.test(type)) {
    return { ok: false, response: sendError(c, "unsupported_media_type") };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(await c.req.text());
  } catch {
    return { ok: false, response: sendError(c, "invalid_json") };
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
