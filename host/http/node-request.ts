import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "hono";

// On @hono/node-server, touching `c.req.raw.body` or `c.req.raw.signal` makes the adapter build a
// full web Request with two web streams for every request: measured here as roughly a third of the
// gateway's CPU per request. Reading the Node request and response directly avoids it. Under
// `app.request()` (tests) there is no Node request, and the web objects are used instead.

interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

function bindings(c: Context): NodeBindings {
  return (c.env ?? {}) as NodeBindings;
}

/** The request body, or "too_large" as soon as it passes `limitBytes` (chunked bodies included). */
export async function readBody(c: Context, limitBytes: number): Promise<Buffer | "too_large"> {
  const { incoming } = bindings(c);
  if (!incoming) {
    const bytes = Buffer.from(await c.req.arrayBuffer());
    return bytes.byteLength > limitBytes ? "too_large" : bytes;
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of incoming as AsyncIterable<Buffer>) {
    size += part.byteLength;
    if (size > limitBytes) return "too_large";
    parts.push(part);
  }
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
}

/**
 * A controller aborted when the client goes away before its response is complete, for cancelling
 * the upstream call (and long polls) the client no longer waits for.
 */
export function abortOnClientGone(c: Context): AbortController {
  const controller = new AbortController();
  const { outgoing } = bindings(c);
  if (outgoing) {
    outgoing.once("close", () => {
      if (!outgoing.writableFinished) controller.abort(new Error("client went away"));
    });
    return controller;
  }
  const signal = c.req.raw.signal;
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  return controller;
}
