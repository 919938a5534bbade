import { randomUUID } from "node:crypto";
import type { Context } from "hono";
import { requestHeader, setResponseHeader } from "./node-request.js";

const MAX_LENGTH = 255;
const UNSAFE = /[^\w\-=]/;

/**
 * The request id: the client's X-Request-Id when it is short and plain (letters, digits, `_`, `-`,
 * `=`), else a new UUID; set as the `requestId` variable and echoed in the X-Request-Id response
 * header. Hono's request-id middleware does the same but reads the header through the web Request,
 * which costs a web Headers object per request on Node (see requestHeader).
 */
export function assignRequestId(c: Context): void {
  let id = requestHeader(c, "x-request-id");
  if (!id || id.length > MAX_LENGTH || UNSAFE.test(id)) id = randomUUID();
  c.set("requestId", id);
  setResponseHeader(c, "X-Request-Id", id);
}
