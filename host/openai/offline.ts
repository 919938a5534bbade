import type { Context } from "hono";
import { sendError } from "../errors.js";
import { requestHeader } from "../http/node-request.js";
import type { QueueConfig, QueueKind, QueueStore } from "../queue/index.js";
import { itemView } from "../queue/index.js";
import type { Target } from "../routing/targets.js";

export interface OfflineDeps {
  store: QueueStore;
  config: QueueConfig;
}

/** RFC 7240: `Prefer: respond-async` anywhere in the (possibly repeated, comma-joined) header. */
export function prefersAsync(c: Context): boolean {
  const prefer = requestHeader(c, "prefer");
  return (
    prefer?.split(",").some((p) => p.trim().split(";")[0]?.trim().toLowerCase() === "respond-async") ?? false
  );
}

/** A client's Idempotency-Key, if it sent a usable one. */
export function idempotencyKey(c: Context): string | undefined {
  const key = requestHeader(c, "idempotency-key")?.trim();
  return key && key.length <= 255 ? key : undefined;
}

function accepted(c: Context, item: Parameters<typeof itemView>[0], asked: boolean): Response {
  c.header("Location", `/v1/queue/${item.id}`);
  if (asked) c.header("Preference-Applied", "respond-async");
  return c.json(itemView(item), 202);
}

/**
 * Writes the request to the durable queue for `target` and answers 202 with the item; the answer
 * leaves only after the row is committed to disk. The same Idempotency-Key from the same client
 * returns the same item.
 */
export async function enqueue(
  c: Context,
  offline: OfflineDeps,
  req: {
    kind: QueueKind;
    endpoint: string;
    body: Readonly<Record<string, unknown>>;
    priority: number;
    clientId: string;
  },
  target: Target,
): Promise<Response> {
  const model = target.models[req.endpoint as keyof Target["models"]];
  const payload = Buffer.from(JSON.stringify(model ? { ...req.body, model } : req.body));
  const result = await offline.store.enqueue({
    clientId: req.clientId,
    idempotencyKey: idempotencyKey(c),
    kind: req.kind,
    target: target.id,
    endpoint: req.endpoint,
    payload,
    priority: req.priority,
  });
  if (!result.ok) return sendError(c, "queue_full", { retryAfterMs: 60_000 });
  c.header("x-edge-target", target.id);
  return accepted(c, result.item, prefersAsync(c));
}

/**
 * The receiving end of exactly-once delivery: an answer already given to this client for this
 * Idempotency-Key is replayed byte for byte, and a request already queued under it answers with
 * its item, so a re-sent request is never executed twice.
 */
export function replay(c: Context, offline: OfflineDeps, clientId: string): Response | undefined {
  const key = idempotencyKey(c);
  if (key === undefined) return undefined;
  const stored = offline.store.storedResponse(clientId, key);
  if (stored) {
    c.header("x-edge-idempotent-replay", "true");
    if (stored.target) c.header("x-edge-target", stored.target);
    return c.body(new Uint8Array(stored.body), stored.status as 200, { "content-type": stored.contentType });
  }
  const queued = offline.store.findByKey(clientId, key);
  if (queued) return accepted(c, queued, prefersAsync(c));
  return undefined;
}

/** Keeps a final answer (2xx, or the upstream's own 4xx) for replay under the client's key. */
export function remember(
  c: Context,
  offline: OfflineDeps | undefined,
  clientId: string,
  answer: { status: number; contentType: string; body: Uint8Array; target: string },
): void {
  const key = idempotencyKey(c);
  if (!offline || key === undefined || answer.status >= 500) return;
  offline.store.storeResponse(clientId, key, { ...answer, body: Buffer.from(answer.body) });
}
