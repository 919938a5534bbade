import { once } from "node:events";
import { Hono } from "hono";
import type { KeyRecord } from "../auth/index.js";
import { sendError } from "../errors.js";
import { abortOnClientGone } from "../http/node-request.js";
import type { QueueStore } from "./store.js";
import type { QueueItem } from "./types.js";
import { itemView } from "./view.js";

type QueueEnv = { Variables: { client: KeyRecord } };

/** `/v1/queue/{id}`: poll (optionally long-poll), fetch the raw result, cancel. Owner or admin only. */
export function queueRoutes({
  store,
  maxWaitSeconds,
}: {
  store: QueueStore;
  maxWaitSeconds: number;
}): Hono<QueueEnv> {
  const app = new Hono<QueueEnv>();

  // Someone else's id answers exactly like a missing one: ids must not be probeable.
  const visible = (client: KeyRecord, item: QueueItem | undefined): item is QueueItem =>
    item !== undefined && (item.clientId === client.id || client.scopes.has("admin"));

  app.get("/:id", async (c) => {
    const id = c.req.param("id");
    let item = store.get(id);
    if (!visible(c.get("client"), item)) return sendError(c, "queue_item_not_found");
    const waitRaw = c.req.query("wait");
    const waitS = waitRaw === undefined ? 0 : Number(waitRaw);
    if (!Number.isFinite(waitS) || waitS < 0) {
      return sendError(c, "invalid_request", {
        message: "wait must be a number of seconds >= 0.",
        param: "wait",
      });
    }
    const seenStatus = item.status;
    const seenAttempts = item.attempts;
    if (waitS > 0 && !["done", "failed", "dead", "cancelled"].includes(seenStatus)) {
      const deadline = AbortSignal.timeout(Math.min(waitS, maxWaitSeconds) * 1000);
      const gone = abortOnClientGone(c).signal;
      const signal = AbortSignal.any([deadline, gone]);
      try {
        while (!signal.aborted) {
          const [changed] = await once(store, "changed", { signal });
          if (changed !== id) continue;
          const now = store.get(id);
          if (now && (now.status !== seenStatus || now.attempts !== seenAttempts)) break;
        }
      } catch {
        // The wait ran out or the client left: answer with the state as it is.
      }
      item = store.get(id) ?? item;
    }
    c.header("Cache-Control", "no-store");
    return c.json(itemView(item));
  });

  app.get("/:id/result", (c) => {
    const item = store.get(c.req.param("id"));
    if (!visible(c.get("client"), item)) return sendError(c, "queue_item_not_found");
    if (item.resultBody === null || item.resultStatus === null) {
      return sendError(c, "queue_result_pending", {
        message: `The item is ${item.status}; it has no result yet.`,
      });
    }
    // Exactly the bytes and status the upstream answered with.
    return c.body(new Uint8Array(item.resultBody), item.resultStatus as 200, {
      "content-type": item.resultContentType ?? "application/json",
    });
  });

  app.delete("/:id", (c) => {
    const id = c.req.param("id");
    const item = store.get(id);
    if (!visible(c.get("client"), item)) return sendError(c, "queue_item_not_found");
    const outcome = store.cancel(id);
    // DELETE is idempotent: an item cancelled before reads as cancelled again.
    if (outcome !== "cancelled" && item.status !== "cancelled") {
      return sendError(c, "queue_item_not_cancellable", {
        message: `The item is ${outcome}; only a queued item can be cancelled.`,
      });
    }
    return c.json(itemView(store.get(id) ?? item));
  });

  return app;
}
