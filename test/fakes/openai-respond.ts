/**
 * How the fake upstream answers one request: first the queued misbehaviour (hang, delay, error
 * status), then the API key check, then the endpoint itself.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Exchange } from "./openai-upstream.js";
import {
  chatCompletion,
  chatCompletionEvents,
  countWords,
  embeddingsList,
  errorBody,
  modelsList,
  promptWords,
  usageFor,
} from "./openai-wire.js";

export interface RespondSettings {
  reply: string;
  models: readonly string[];
  apiKey: string | undefined;
  embeddingDimensions: number;
}

/** Resolves false instead of throwing when the connection closes first. */
async function pause(ms: number, closed: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal: closed });
    return true;
  } catch {
    return false;
  }
}

/** `value` as JSON; a string is taken as JSON text already (a kept answer, sent byte for byte). */
function sendJson(ex: Exchange, status: number, value: unknown, extra: Record<string, string> = {}): void {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  ex.res.writeHead(status, {
    ...baseHeaders(ex, "application/json"),
    ...extra,
    "content-length": Buffer.byteLength(text),
  });
  if (ex.behaviour.dropAfterChunks === undefined) {
    ex.res.end(text);
    return;
  }
  // Half a body, then a cut: the client has a 2xx status but can never finish the body.
  ex.res.write(text.slice(0, Math.floor(text.length / 2)), () => ex.drop());
}

function baseHeaders(ex: Exchange, contentType: string): Record<string, string> {
  const { retryAfterS, retryAfter, headers } = ex.behaviour;
  const out: Record<string, string> = { "content-type": contentType };
  // Echoed, as many servers do, so a test can match an answer to its request.
  const requestId = ex.req.headers["x-request-id"];
  if (typeof requestId === "string") out["x-request-id"] = requestId;
  if (retryAfterS !== undefined) out["retry-after"] = String(retryAfterS);
  if (retryAfter !== undefined) out["retry-after"] = retryAfter;
  return { ...out, ...headers };
}

async function sendEvents(ex: Exchange, events: string[]): Promise<void> {
  const { delayBetweenChunksMs = 0, dropAfterChunks, hangAfterChunks } = ex.behaviour;
  ex.res.writeHead(200, { ...baseHeaders(ex, "text/event-stream"), "cache-control": "no-cache" });
  ex.res.flushHeaders();
  for (const [index, event] of events.entries()) {
    if (index > 0 && delayBetweenChunksMs > 0 && !(await pause(delayBetweenChunksMs, ex.closed))) return;
    if (index === dropAfterChunks) return ex.drop();
    if (index === hangAfterChunks) return void (await pause(2 ** 31 - 1, ex.closed));
    if (ex.closed.aborted) return;
    // Wait until the event is handed to the socket, so a drop right after cannot swallow it.
    await new Promise<void>((resolve) => ex.res.write(event, () => resolve()));
  }
  if (dropAfterChunks === events.length) return ex.drop();
  ex.res.end();
}

export async function respond(ex: Exchange, settings: RespondSettings, id: string): Promise<void> {
  const { behaviour, record } = ex;
  if (behaviour.hang) {
    await pause(2 ** 31 - 1, ex.closed);
    return;
  }
  if (behaviour.firstByteDelayMs && !(await pause(behaviour.firstByteDelayMs, ex.closed))) return;
  if (ex.admitted) {
    // Executed (or found kept) on arrival; only the sending was delayed. The replay header is
    // Stripe's name for it (the gateway's own receiving end says x-edge-idempotent-replay).
    const replay: Record<string, string> = ex.admitted.replayed ? { "idempotent-replayed": "true" } : {};
    return sendJson(ex, 200, ex.admitted.text, replay);
  }
  if (behaviour.status !== undefined) {
    if (behaviour.errorBody !== undefined) {
      ex.res.writeHead(behaviour.status, baseHeaders(ex, "application/json"));
      ex.res.end(behaviour.errorBody);
      return;
    }
    const type = behaviour.status >= 500 ? "server_error" : "invalid_request_error";
    const code = behaviour.status === 429 ? "rate_limit_exceeded" : null;
    return sendJson(
      ex,
      behaviour.status,
      errorBody(`fake upstream answered ${behaviour.status}`, type, code),
    );
  }
  if (settings.apiKey !== undefined && ex.req.headers.authorization !== `Bearer ${settings.apiKey}`) {
    const message = "Incorrect API key provided.";
    return sendJson(ex, 401, errorBody(message, "invalid_request_error", "invalid_api_key"));
  }

  const path = record.path.split("?")[0];
  const body = (typeof record.body === "object" && record.body !== null ? record.body : {}) as Record<
    string,
    unknown
  >;
  const model = typeof body.model === "string" ? body.model : (settings.models[0] ?? "fake-model");

  if (record.method === "GET" && path === "/v1/models") return sendJson(ex, 200, modelsList(settings.models));
  if (record.method === "POST" && path === "/v1/embeddings") {
    if (body.input === undefined) {
      return sendJson(ex, 400, errorBody("Missing required parameter: 'input'.", "invalid_request_error"));
    }
    return sendJson(ex, 200, embeddingsList(body, model, settings.embeddingDimensions));
  }
  if (record.method === "POST" && path === "/v1/chat/completions") {
    if (!Array.isArray(body.messages)) {
      return sendJson(ex, 400, errorBody("Missing required parameter: 'messages'.", "invalid_request_error"));
    }
    const reply = behaviour.reply ?? settings.reply;
    const usage = usageFor(promptWords(body), countWords(reply));
    const completionId = `chatcmpl-fake-${id}`;
    if (body.stream !== true) return sendJson(ex, 200, chatCompletion(completionId, model, reply, usage));
    const includeUsage =
      (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    return sendEvents(ex, chatCompletionEvents(completionId, model, reply, usage, includeUsage));
  }
  const message = `Unknown request URL: ${record.method} ${record.path}.`;
  return sendJson(ex, 404, errorBody(message, "invalid_request_error", "unknown_url"));
}
