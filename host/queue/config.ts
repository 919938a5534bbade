import { z } from "zod";

export const queueConfigSchema = z
  .object({
    /** Queue cloud-bound requests while the cloud is unreachable even without `Prefer: respond-async`. */
    asyncWhenOffline: z.boolean().default(false),
    /** Undelivered items held at most; beyond it enqueues get 503 queue_full. */
    maxRows: z.number().int().positive().default(100_000),
    /** Undelivered payload bytes held at most. */
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(256 * 1024 * 1024),
    /** Deliveries in flight at once toward the cloud. */
    concurrency: z.number().int().min(1).max(64).default(4),
    /** A delivery's lease; longer than any upstream call may take. */
    leaseMs: z
      .number()
      .int()
      .positive()
      .default(10 * 60_000),
    /** Longest sleep of the sync worker between looks at the queue. */
    pollMs: z.number().int().positive().default(1_000),
    /** Finished items and replayable answers are kept this long. */
    retentionMs: z
      .number()
      .int()
      .positive()
      .default(7 * 24 * 3_600_000),
    /** Upper bound for `GET /v1/queue/{id}?wait=SECONDS`. */
    maxWaitSeconds: z.number().int().min(0).max(600).default(60),
  })
  .strict();

export type QueueConfig = z.infer<typeof queueConfigSchema>;
