// What `edge-gateway queue` prints: the JSON shapes behind --json, and the text an operator reads.

import { formatBytes, formatSpan, formatTable, formatWhen, truncate } from "./cli-format.js";
import { QUEUE_STATUSES, type QueueItem, type QueueStatus } from "./queue/index.js";

/** The machine view of an item: snake_case like the HTTP API, times in wall-clock ms. */
export function itemSummary(item: QueueItem) {
  return {
    id: item.id,
    status: item.status,
    kind: item.kind,
    target: item.target,
    endpoint: item.endpoint,
    client_id: item.clientId,
    idempotency_key: item.idempotencyKey,
    priority: item.priority,
    attempts: item.attempts,
    payload_bytes: item.payload.byteLength,
    created_at_ms: item.createdAtMs,
    updated_at_ms: item.updatedAtMs,
    next_attempt_at_ms: item.status === "queued" ? item.nextAttemptAtMs : null,
    finished_at_ms: item.finishedAtMs,
    lease_owner: item.leaseOwner,
    lease_expires_at_ms: item.leaseExpiresAtMs,
    last_error: item.lastError,
    result_status: item.resultStatus,
  };
}

/** Parsed JSON when the bytes are JSON, else the text as it is. */
function decode(bytes: Buffer): unknown {
  const text = bytes.toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The summary plus the request sent and the answer stored. */
export function itemDetail(item: QueueItem) {
  return {
    ...itemSummary(item),
    payload: decode(item.payload),
    result:
      item.resultStatus === null
        ? null
        : {
            status: item.resultStatus,
            content_type: item.resultContentType,
            body: decode(item.resultBody ?? Buffer.alloc(0)),
          },
  };
}

export function renderList(items: readonly QueueItem[], status: QueueStatus | null, nowMs: number): string {
  if (items.length === 0) return status === null ? "no items\n" : `no ${status} items\n`;
  const next = (i: QueueItem) => {
    if (i.status !== "queued") return "-";
    return i.nextAttemptAtMs <= nowMs ? "now" : `in ${formatSpan(i.nextAttemptAtMs - nowMs)}`;
  };
  const rows = items.map((i) => [
    i.id,
    i.status,
    String(i.priority),
    String(i.attempts),
    i.target,
    truncate(i.clientId, 20),
    `${formatSpan(nowMs - i.createdAtMs)} ago`,
    next(i),
    i.lastError === null ? "" : truncate(i.lastError, 48),
  ]);
  return formatTable(
    ["ID", "STATUS", "PRI", "TRIES", "TARGET", "CLIENT", "CREATED", "NEXT", "LAST ERROR"],
    rows,
  );
}

export function renderItem(item: QueueItem, nowMs: number): string {
  const when = (ms: number | null) => (ms === null ? "-" : formatWhen(ms, nowMs));
  const block = (value: unknown) =>
    (typeof value === "string" ? value : JSON.stringify(value, null, 2)).replace(/^/gm, "  ");
  const fields: [string, string][] = [
    ["id", item.id],
    ["status", item.status],
    ["kind", `${item.kind} (${item.endpoint} on ${item.target})`],
    ["client", item.clientId],
    ["idempotency key", item.idempotencyKey ?? "-"],
    ["priority", String(item.priority)],
    ["attempts", String(item.attempts)],
    ["created", when(item.createdAtMs)],
    ["updated", when(item.updatedAtMs)],
  ];
  if (item.status === "queued") fields.push(["next attempt", when(item.nextAttemptAtMs)]);
  if (item.leaseOwner !== null)
    fields.push(["lease", `${item.leaseOwner} until ${when(item.leaseExpiresAtMs)}`]);
  if (item.finishedAtMs !== null) fields.push(["finished", when(item.finishedAtMs)]);
  if (item.lastError !== null) fields.push(["last error", item.lastError]);
  const { payload, result } = itemDetail(item);
  let text = fields.map(([k, v]) => `${k.padEnd(16)}${v}\n`).join("");
  text += `request (${formatBytes(item.payload.byteLength)}):\n${block(payload)}\n`;
  if (result) {
    const size = formatBytes(item.resultBody?.byteLength ?? 0);
    text += `answer (HTTP ${result.status}, ${result.content_type ?? "?"}, ${size}):\n${block(result.body)}\n`;
  }
  return text;
}

export interface QueueStats {
  database: string;
  database_bytes: number;
  by_status: Record<QueueStatus, number>;
  active_bytes: number;
  oldest_active_at_ms: number | null;
  next_due_at_ms: number | null;
}

export function renderStats(s: QueueStats, nowMs: number): string {
  const rows = QUEUE_STATUSES.map((status) => [status, String(s.by_status[status])]);
  const when = (ms: number | null) => (ms === null ? "-" : formatWhen(ms, nowMs));
  return (
    `${formatTable(["STATUS", "ITEMS"], rows)}\n` +
    `undelivered payload  ${formatBytes(s.active_bytes)}\n` +
    `oldest undelivered   ${when(s.oldest_active_at_ms)}\n` +
    `next attempt due     ${when(s.next_due_at_ms)}\n` +
    `database             ${s.database} (${formatBytes(s.database_bytes)} with its WAL)\n`
  );
}
