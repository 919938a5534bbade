import type { QueueItem } from "./types.js";

/** The poll API's view of an item: status, timing, and once finished the upstream's answer. */
export function itemView(item: QueueItem) {
  let response: unknown = null;
  if (item.resultBody) {
    const text = item.resultBody.toString("utf8");
    try {
      response = JSON.parse(text);
    } catch {
      response = text;
    }
  }
  return {
    id: item.id,
    object: "queue.item",
    status: item.status,
    kind: item.kind,
    target: item.target,
    attempts: item.attempts,
    created_at: Math.floor(item.createdAtMs / 1000),
    updated_at: Math.floor(item.updatedAtMs / 1000),
    next_attempt_at: item.status === "queued" ? Math.floor(item.nextAttemptAtMs / 1000) : null,
    finished_at: item.finishedAtMs === null ? null : Math.floor(item.finishedAtMs / 1000),
    last_error: item.lastError,
    result:
      item.resultStatus === null
        ? null
        : {
            status: item.resultStatus,
            content_type: item.resultContentType,
            body: response,
            url: `/v1/queue/${item.id}/result`,
          },
  };
}
