import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "hono";
import { collectBytes } from "./collect.js";

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

/**
 * A request header by its lower-case name, from the Node request's own parsed headers: `c.req.header`
 * makes the adapter build a web Headers object from every raw header first, which the proxy path
 * does not otherwise need. As with Node's parser, a repeated header that cannot be a list (such as
 * Authorization or Content-Length) keeps its first value; others are joined with ", ".
 */
export function requestHeader(c: Context, lowerCaseName: string): string | undefined {
  const { incoming } = bindings(c);
  if (!incoming) return c.req.header(lowerCaseName);
  const value = incoming.headers[lowerCaseName];
  return Array.isArray(value) ? value.join(", ") : value;
}

/**
 * Sets a response header on the Node response itself, where there is one and its headers are not
 * sent yet: Node merges them with the headers the adapter writes, which win for the same name (so a
 * handler's own value still overrides). A response whose only header is its content type then
 * reaches the socket without a web Headers object, which the adapter otherwise builds, sorts and
 * copies for every answer. Under `app.request()` (tests) it is Hono's `c.header`.
 */
export function setResponseHeader(c: Context, name: string, value: string): void {
  const { outgoing } = bindings(c);
  if (outgoing && !outgoing.headersSent) outgoing.setHeader(name, value);
  else c.header(name, value);
}

/** A response header as the client will see it, wherever it was set. */
export function responseHeader(c: Context, lowerCaseName: string): string | undefined {
  const fromHono = c.res.headers.get(lowerCaseName);
  if (fromHono !== null) return fromHono;
  const value = bindings(c).outgoing?.getHeader(lowerCaseName);
  return value === undefined ? undefined : String(value);
}

/** Whether this request came through @hono/node-server (false under `app.request()`). */
export function hasNodeResponse(c: Context): boolean {
  return bindings(c).outgoing !== undefined;
}

/** The request body, or "too_large" as soon as it passes `limitBytes` (chunked bodies included). */
export async function readBody(c: Context, limitBytes: number): Promise<Buffer | "too_large"> {
  const { incoming } = bindings(c);
  if (!incoming) {
    const bytes = Buffer.from(await c.req.arrayBuffer());
    return bytes.byteLength > limitBytes ? "too_large" : bytes;
  }
  const body = await collectBytes(incoming, limitBytes);
  // The rest of an oversized body stays unread: close the connection after the answer rather than
  // read (or wait for) the remainder.
  if (body === "too_large") bindings(c).outgoing?.setHeader("connection", "close");
  return body;
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
