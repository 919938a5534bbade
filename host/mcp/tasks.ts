import type { QueueItem, QueueStore } from "../queue/index.js";

/** The tasks extension's identifier (2026-07-28), declared per request in the client capabilities. */
export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";
/** Where a 2026-07-28 request carries the client's capabilities. */
export const CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities";
/** Carried to the upstream with a re-sent call: the same key for every delivery of one task. */
export const IDEMPOTENCY_META_KEY = "io.edge-gateway/idempotency-key";

export type TaskStatus = "working" | "input_required" | "completed" | "failed" | "cancelled";

/** What a queued tool call holds: the upstream, the tool's upstream name and its arguments. */
export interface ToolCallPayload {
  upstream: string;
  name: string;
  arguments?: Record<string, unknown>;
}

export interface TaskTiming {
  ttlMs: number;
  pollMs: number;
}

function statusOf(item: QueueItem): TaskStatus {
  switch (item.status) {
    case "queued":
    case "inflight":
      return "working";
    case "done":
      return "completed";
    case "cancelled":
      return "cancelled";
    default:
      return "failed";
  }
}

function statusMessage(item: QueueItem, payload: ToolCallPayload): string {
  switch (item.status) {
    case "queued":
      return item.attempts === 0
        ? `Upstream '${payload.upstream}' is offline; the call is queued and will be sent when it returns.`
        : `Waiting to retry the call to upstream '${payload.upstream}' (${item.attempts} attempts).`;
    case "inflight":
      return `Sending the call to upstream '${payload.upstream}'.`;
    case "done":
      return "The upstream answered.";
    case "cancelled":
      return "Cancelled before it was sent.";
    default:
      return item.lastError ?? "The call failed.";
  }
}

export function payloadOf(item: QueueItem): ToolCallPayload {
  return JSON.parse(item.payload.toString("utf8")) as ToolCallPayload;
}

/** The JSON-RPC error a failed task carries (the upstream's own error when it answered one). */
function errorOf(item: QueueItem): Record<string, unknown> {
  if (item.resultBody !== null) {
    try {
      const body = JSON.parse(item.resultBody.toString("utf8")) as { error?: Record<string, unknown> };
      if (body.error && typeof body.error.code === "number") return body.error;
    } catch {
      // Not JSON: fall through to the generic error.
    }
  }
  return { code: -32603, message: item.lastError ?? "The call failed." };
}

/** The stored upstream result, verbatim. */
function resultOf(item: QueueItem): Record<string, unknown> {
  return JSON.parse((item.resultBody ?? Buffer.from("{}")).toString("utf8")) as Record<string, unknown>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A task as the 2026-07-28 tasks extension shows it (`DetailedTask`). */
export function modernTask(item: QueueItem, timing: TaskTiming): Record<string, unknown> {
  const payload = payloadOf(item);
  const status = statusOf(item);
  return {
    taskId: item.id,
    status,
    statusMessage: statusMessage(item, payload),
    createdAt: iso(item.createdAtMs),
    lastUpdatedAt: iso(item.updatedAtMs),
    ttlMs: timing.ttlMs,
    pollIntervalMs: timing.pollMs,
    ...(status === "completed" ? { result: resultOf(item) } : {}),
    ...(status === "failed" ? { error: errorOf(item) } : {}),
  };
}

/** A task as 2025-11-25 shows it (`Task`: `ttl`, `pollInterval`, no inlined result). */
export function legacyTask(item: QueueItem, timing: TaskTiming): Record<string, unknown> {
  const payload = payloadOf(item);
  return {
    taskId: item.id,
    status: statusOf(item),
    statusMessage: statusMessage(item, payload),
    createdAt: iso(item.createdAtMs),
    lastUpdatedAt: iso(item.updatedAtMs),
    ttl: timing.ttlMs,
    pollInterval: timing.pollMs,
  };
}

/** What 2025-11-25's `tasks/result` returns for a finished task: the upstream's result, or its error. */
export function legacyTaskPayload(
  item: QueueItem,
): { result: Record<string, unknown> } | { error: Record<string, unknown> } | undefined {
  const status = statusOf(item);
  if (status === "completed") return { result: resultOf(item) };
  if (status === "failed") return { error: errorOf(item) };
  if (status === "cancelled") return { error: { code: -32603, message: "The task was cancelled." } };
  return undefined;
}

/** True when a 2026-07-28 request declared the tasks extension in its per-request capabilities. */
export function declaresTasks(envelope: Record<string, unknown> | undefined): boolean {
  const caps = envelope?.[CLIENT_CAPABILITIES_KEY] as { extensions?: Record<string, unknown> } | undefined;
  return caps?.extensions?.[TASKS_EXTENSION] !== undefined;
}

/**
 * The task, if `clientId` created it: a task id is a capability only for the client that holds it,
 * so another key asking for it is told it does not exist.
 */
export function findTask(store: QueueStore, id: string, clientId: string): QueueItem | undefined {
  const item = store.get(id);
  if (item?.kind !== "mcp_tool_call" || item.clientId !== clientId) return undefined;
  return item;
}
