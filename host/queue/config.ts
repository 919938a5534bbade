import { z } from "zod";

export const queueConfigSchema = z
  .object({
    asyncWhenOffline: z
      .boolean()
      .default(false)
      .describe(
        "Queue cloud-bound requests while the cloud is unreachable even without `Prefer: respond-async` (per key: `auth.keys[].asyncWhenOffline`).",
      ),
    maxRows: z
      .number()
      .int()
      .positive()
      .default(100_000)
      .describe("Undelivered items held at most; beyond it enqueues get 503 `queue_full`."),
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(256 * 1024 * 1024)
      .describe("Undelivered payload bytes held at most."),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe("Deliveries in flight at once toward the cloud."),
    leaseMs: z
      .number()
      .int()
      .positive()
      .default(10 * 60_000)
      .describe("A delivery's lease; longer than any upstream call may take."),
    pollMs: z
      .number()
      .int()
      .positive()
      .default(1_000)
      .describe("Longest sleep of the sync worker between looks at the queue."),
    retentionMs: z
      .number()
      .int()
      .positive()
      .default(7 * 24 * 3_600_000)
      .describe("Finished items and replayable answers are kept this long."),
    maxWaitSeconds: z
      .number()
      .int()
      .min(0)
      .max(600)
      .default(60)
      .describe("Upper bound for `GET /v1/queue/{id}?wait=SECONDS` long polls."),
  })
  .strict()
  .describe("The durable offline queue: cloud-bound work kept in SQLite until the cloud is back.");

export type QueueConfig = z.infer<typeof queueConfigSchema>;
