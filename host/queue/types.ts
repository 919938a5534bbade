export const QUEUE_STATUSES = ["queued", "inflight", "done", "failed", "dead", "cancelled"] as const;
export type QueueStatus = (typeof QUEUE_STATUSES)[number];
/** Statuses an item never leaves on its own. */
export const FINISHED: readonly QueueStatus[] = ["done", "failed", "dead", "cancelled"];

export type QueueKind = "chat" | "embeddings" | "mcp_tool_call";

export interface QueueItem {
  id: string;
  clientId: string;
  idempotencyKey: string | null;
  kind: QueueKind;
  /** Target id, e.g. `cloud/openai`. */
  target: string;
  /** Upstream endpoint, e.g. `chat/completions`. */
  endpoint: string;
  /** The request body as it will be sent (model already rewritten). */
  payload: Buffer;
  priority: number;
  status: QueueStatus;
  attempts: number;
  nextAttemptAtMs: number;
  leaseOwner: string | null;
  leaseExpiresAtMs: number | null;
  resultStatus: number | null;
  resultContentType: string | null;
  /** The upstream's answer, byte for byte. */
  resultBody: Buffer | null;
  lastError: string | null;
  createdAtMs: number;
  updatedAtMs: number;
  finishedAtMs: number | null;
}

export interface EnqueueInput {
  clientId: string;
  idempotencyKey?: string;
  kind: QueueKind;
  target: string;
  endpoint: string;
  payload: Buffer;
  priority: number;
}

export type EnqueueResult =
  | { ok: true; item: QueueItem; created: boolean }
  | { ok: false; reason: "full"; message: string };

export interface UpstreamResult {
  status: number;
  contentType: string;
  body: Buffer;
}
